"""Document boundaries on the tokenizer side: end of text, unknown, old files, files to load.

Every built-in tokenizer names an end-of-text token (a key of its
``special_tokens``) that ``encode`` never yields and ``decode`` drops, and
says which token, if any, stands for unknown text. Files saved before this
existed load as they were; ``tokenizer.path`` reads an existing Hugging Face
or SentencePiece file and keeps that file's own end-of-text token.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from zoo.errors import ZooError
from zoo_plugins.tokenizers.bpe import BPEConfig, BPETokenizer
from zoo_plugins.tokenizers.byte import ByteTokenizer
from zoo_plugins.tokenizers.char import CharTokenizer
from zoo_plugins.tokenizers.sentencepiece import SentencePieceConfig, SentencePieceTokenizer
from zoo_plugins.tokenizers.special import END_OF_TEXT, END_OF_TEXT_PREFERENCE, choose_end_of_text
from zoo_plugins.tokenizers.word import WordConfig, WordTokenizer

EOT = "<|endoftext|>"
SAMPLE = "ROMEO:\nBut soft, what light through yonder window breaks?\n\nJULIET:\nAy me!\n"


@pytest.fixture(scope="module")
def training_text(tiny_shakespeare) -> str:
    return tiny_shakespeare.read_text("utf-8")[:40_000]


def _trained(kind: str, text: str) -> Any:
    tokenizer = {
        "char": CharTokenizer,
        "byte": ByteTokenizer,
        "word": WordTokenizer,
        "bpe": lambda: BPETokenizer(BPEConfig(vocab_size=400)),
        "sentencepiece": lambda: SentencePieceTokenizer(SentencePieceConfig(vocab_size=400)),
    }[kind]()
    tokenizer.train([text])
    return tokenizer


#: Each tokenizer's end-of-text id and its unknown token (text, id) when trained by zoo.
LAYOUT = {
    "char": (1, ("<unk>", 0)),
    "byte": (256, None),
    "word": (1, ("<unk>", 0)),
    "bpe": (0, None),
    "sentencepiece": (2, ("<unk>", 0)),
}


@pytest.fixture(scope="module", params=sorted(LAYOUT))
def kind_and_tokenizer(request, training_text) -> tuple[str, Any]:
    return request.param, _trained(request.param, training_text)


def test_every_builtin_names_its_end_of_text_and_unknown_tokens(kind_and_tokenizer):
    kind, tokenizer = kind_and_tokenizer
    eot_id, unknown = LAYOUT[kind]
    assert tokenizer.end_of_text == EOT
    assert tokenizer.special_tokens[EOT] == eot_id
    assert 0 <= eot_id < tokenizer.vocab_size
    if unknown is None:
        assert tokenizer.unknown is None
    else:
        assert tokenizer.unknown == unknown[0]
        assert tokenizer.special_tokens[unknown[0]] == unknown[1]


def test_end_of_text_decodes_to_nothing_and_encode_never_yields_it(kind_and_tokenizer):
    _, tokenizer = kind_and_tokenizer
    eot_id = tokenizer.special_tokens[EOT]
    ids = tokenizer.encode(SAMPLE)
    assert tokenizer.decode([eot_id]) == ""
    assert tokenizer.decode([eot_id, *ids, eot_id, *ids, eot_id]) == tokenizer.decode(ids) * 2
    spelled = f"one {EOT} two <unk>"  # the token's text inside a document is only text
    assert eot_id not in tokenizer.encode(spelled)
    assert eot_id not in ids


def test_save_and_load_keep_the_special_tokens(kind_and_tokenizer, tmp_path):
    kind, tokenizer = kind_and_tokenizer
    tokenizer.save(tmp_path)
    fresh = type(tokenizer)(tokenizer.config)
    fresh.load(tmp_path)
    assert (fresh.end_of_text, fresh.unknown) == (tokenizer.end_of_text, tokenizer.unknown)
    assert fresh.special_tokens == tokenizer.special_tokens
    assert fresh.vocab_size == tokenizer.vocab_size
    assert fresh.encode(SAMPLE) == tokenizer.encode(SAMPLE)


def test_char_ids_start_after_unk_and_end_of_text():
    tokenizer = CharTokenizer()
    tokenizer.train(["cab"])
    assert tokenizer.encode("abcz") == [2, 3, 4, 0]
    assert tokenizer.vocab_size == 5
    assert tokenizer.decode([2, 1, 0, 9]) == "a\ufffd\ufffd"


def test_byte_has_257_tokens_and_drops_end_of_text():
    tokenizer = ByteTokenizer()
    assert tokenizer.vocab_size == 257
    assert tokenizer.special_tokens == {EOT: 256}
    assert tokenizer.decode([104, 256, 105]) == "hi"


# --- files saved before end of text existed ---------------------------------------------------


def test_an_old_char_file_loads_with_its_ids_and_no_end_of_text(tmp_path):
    old = {"type": "char", "unknown_token": "<unk>", "chars": ["\n", " ", "a", "b", "é"]}
    (tmp_path / "char.json").write_text(json.dumps(old, ensure_ascii=False), "utf-8")
    tokenizer = CharTokenizer()
    tokenizer.load(tmp_path)
    assert tokenizer.end_of_text is None
    assert tokenizer.unknown == "<unk>"
    assert tokenizer.special_tokens == {"<unk>": 0}
    assert tokenizer.vocab_size == 6
    assert tokenizer.encode("ab é\nz") == [3, 4, 2, 5, 1, 0]  # characters from id 1, as before
    assert tokenizer.decode([3, 4, 2, 5, 1, 0]) == "ab é\n\ufffd"
    resaved = tmp_path / "again"
    resaved.mkdir()
    tokenizer.save(resaved)
    assert "end_of_text" not in json.loads((resaved / "char.json").read_text("utf-8"))


def test_a_new_char_file_records_its_end_of_text(tmp_path):
    tokenizer = CharTokenizer()
    tokenizer.train(["ab"])
    tokenizer.save(tmp_path)
    assert json.loads((tmp_path / "char.json").read_text("utf-8"))["end_of_text"] == EOT


def test_char_file_with_a_bad_end_of_text_is_refused(tmp_path):
    bad = {"type": "char", "end_of_text": 7, "chars": ["a"]}
    (tmp_path / "char.json").write_text(json.dumps(bad), "utf-8")
    with pytest.raises(ValueError, match="end_of_text"):
        CharTokenizer().load(tmp_path)


@pytest.mark.parametrize("old_file", ['{"type": "byte"}', None])
def test_an_old_byte_file_or_none_loads_as_256_tokens(tmp_path, old_file):
    if old_file is not None:
        (tmp_path / "byte.json").write_text(old_file, "utf-8")
    tokenizer = ByteTokenizer()
    tokenizer.load(tmp_path)
    assert tokenizer.vocab_size == 256
    assert (tokenizer.end_of_text, tokenizer.special_tokens) == (None, {})
    assert tokenizer.encode("hé") == [104, 195, 169]
    assert tokenizer.decode([104, 195, 169]) == "hé"


def test_a_new_byte_file_records_its_end_of_text(tmp_path):
    ByteTokenizer().save(tmp_path)
    assert json.loads((tmp_path / "byte.json").read_text("utf-8")) == {"type": "byte",
                                                                       "end_of_text": EOT}


def test_an_old_bpe_file_without_special_tokens_loads_with_no_end_of_text(tmp_path,
                                                                         training_text):
    old = BPETokenizer._empty()  # what the bpe tokenizer trained before it had end of text
    from tokenizers import pre_tokenizers, trainers

    old.train_from_iterator([training_text], trainer=trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    old.save(str(tmp_path / "tokenizer.json"))
    tokenizer = BPETokenizer()
    tokenizer.load(tmp_path)
    assert (tokenizer.end_of_text, tokenizer.unknown, tokenizer.special_tokens) == (None, None, {})
    assert tokenizer.vocab_size == 300
    assert tokenizer.encode(SAMPLE) == old.encode(SAMPLE).ids


def test_an_old_sentencepiece_run_loads_with_no_end_of_text(tmp_path, training_text):
    import sentencepiece

    model = io.BytesIO()  # trained as zoo did before: </s> was an end of sentence never used
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(training_text.split("\n")), model_writer=model, vocab_size=400,
        byte_fallback=True, character_coverage=1.0, normalization_rule_name="identity",
        add_dummy_prefix=False, remove_extra_whitespaces=False, minloglevel=2)
    (tmp_path / "sentencepiece.model").write_bytes(model.getvalue())  # and no sentencepiece.json
    tokenizer = SentencePieceTokenizer()
    tokenizer.load(tmp_path)
    assert tokenizer.end_of_text is None
    assert tokenizer.special_tokens == {"<unk>": 0, "<s>": 1, "</s>": 2}
    processor = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    assert tokenizer.encode("But soft") == processor.encode("But soft")


# --- tokenizer.path: an existing Hugging Face tokenizer.json ---------------------------------


def _hf_file(tmp_path: Path, text: str, special: list[str], name: str = "tokenizer.json") -> Path:
    """A WordPiece tokenizer.json with BERT's pieces around it, trained by the library itself."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from tokenizers.processors import TemplateProcessing

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.train_from_iterator([text], trainer=trainers.WordPieceTrainer(
        vocab_size=300, special_tokens=special, show_progress=False))
    if "[CLS]" in special and "[SEP]" in special:
        tokenizer.post_processor = TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[
                ("[CLS]", tokenizer.token_to_id("[CLS]")),
                ("[SEP]", tokenizer.token_to_id("[SEP]"))])
    path = tmp_path / name
    tokenizer.save(str(path))
    return path


def test_bpe_path_reads_the_file_instead_of_training(tmp_path, training_text):
    path = _hf_file(tmp_path, training_text, ["[UNK]", "[CLS]", "[SEP]", "[PAD]"])
    tokenizer = BPETokenizer(BPEConfig(path=str(path)))
    tokenizer.train(["Zebra quartz, nothing like the file's text"], vocab_size=5000)
    assert tokenizer.vocab_size == 300  # the file's, not the training text's or the argument
    assert tokenizer.end_of_text == "[SEP]"  # BERT's, the only one of the preference list
    assert tokenizer.unknown == "[UNK]"
    assert set(tokenizer.special_tokens) == {"[UNK]", "[CLS]", "[SEP]", "[PAD]"}
    ids = tokenizer.encode("But soft")
    assert tokenizer.special_tokens["[CLS]"] not in ids  # no post-processor tokens added
    assert tokenizer.decode(ids) == "but soft"  # the file lowercases: its normalizer is kept
    assert tokenizer.decode([tokenizer.special_tokens["[SEP]"]]) == ""


def test_bpe_path_keeps_the_files_own_end_of_text_by_preference(tmp_path, training_text):
    path = _hf_file(tmp_path, training_text, ["<unk>", "<s>", "</s>", "[SEP]", "<pad>"])
    tokenizer = BPETokenizer(BPEConfig(path=str(path)))
    tokenizer.train([])
    assert tokenizer.end_of_text == "</s>"  # before [SEP] in the preference list
    assert tokenizer.special_tokens["</s>"] == 2


def test_bpe_path_without_an_end_of_text_token_has_none(tmp_path, training_text):
    path = _hf_file(tmp_path, training_text, ["[UNK]", "[PAD]"])
    tokenizer = BPETokenizer(BPEConfig(path=str(path)))
    tokenizer.train([])
    assert tokenizer.end_of_text is None
    assert tokenizer.unknown == "[UNK]"


def test_bpe_path_run_is_self_contained(tmp_path, training_text):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = _hf_file(elsewhere, training_text, ["[UNK]", "[SEP]"], name="own.json")
    config = BPEConfig(path=str(path))
    tokenizer = BPETokenizer(config)
    tokenizer.train([])
    run = tmp_path / "run"
    run.mkdir()
    tokenizer.save(run)
    path.unlink()  # the run no longer needs the file it came from
    fresh = BPETokenizer(config)
    fresh.load(run)
    assert fresh.encode(SAMPLE) == tokenizer.encode(SAMPLE)
    assert (fresh.end_of_text, fresh.vocab_size) == ("[SEP]", tokenizer.vocab_size)


def test_a_gpt2_style_file_keeps_endoftext(tmp_path, training_text):
    trained = _trained("bpe", training_text)  # a byte-level BPE file like GPT-2's
    trained.save(tmp_path)
    tokenizer = BPETokenizer(BPEConfig(path=str(tmp_path / "tokenizer.json")))
    tokenizer.train([])
    assert tokenizer.end_of_text == EOT
    assert tokenizer.decode(tokenizer.encode(SAMPLE)) == SAMPLE




# --- tokenizer.path: an existing SentencePiece .model -----------------------------------------


def _sp_file(tmp_path: Path, text: str, **options: Any) -> Path:
    """A SentencePiece model with the library's defaults (NFKC, dummy prefix), unless told."""
    import sentencepiece

    prefix = tmp_path / "own"
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(text.split("\n")), model_prefix=str(prefix), vocab_size=300,
        minloglevel=2, num_threads=1, **options)
    return prefix.with_suffix(".model")


def test_sentencepiece_path_reads_the_model_and_keeps_its_eos(tmp_path, training_text):
    path = _sp_file(tmp_path, training_text)
    tokenizer = SentencePieceTokenizer(SentencePieceConfig(path=str(path)))
    tokenizer.train(["Zebra quartz"], vocab_size=5000)
    assert tokenizer.vocab_size == 300
    assert tokenizer.end_of_text == "</s>"  # the model's own end of sentence
    assert tokenizer.special_tokens["</s>"] == 2
    assert tokenizer.unknown == "<unk>"
    ids = tokenizer.encode("But soft,\nwhat light")  # no byte tokens: the model's own way
    assert all(0 <= i < 300 for i in ids)
    assert tokenizer.decode([2]) == ""
    run = tmp_path / "run"
    run.mkdir()
    tokenizer.save(run)
    path.unlink()
    fresh = SentencePieceTokenizer(SentencePieceConfig(path=str(path)))
    fresh.load(run)
    assert (fresh.end_of_text, fresh.encode("But soft")) == ("</s>", tokenizer.encode("But soft"))


def test_sentencepiece_path_without_eos_finds_a_preferred_control_piece(tmp_path, training_text):
    path = _sp_file(tmp_path, training_text, eos_id=-1, control_symbols=["<pad>", EOT])
    tokenizer = SentencePieceTokenizer(SentencePieceConfig(path=str(path)))
    tokenizer.train([])
    assert tokenizer.end_of_text == EOT
    assert tokenizer.special_tokens[EOT] == tokenizer._loaded().piece_to_id(EOT)
    assert tokenizer.decode([tokenizer.special_tokens[EOT]]) == ""


def test_sentencepiece_path_with_no_end_of_text_has_none(tmp_path, training_text):
    path = _sp_file(tmp_path, training_text, eos_id=-1)
    tokenizer = SentencePieceTokenizer(SentencePieceConfig(path=str(path)))
    tokenizer.train([])
    assert tokenizer.end_of_text is None


BPE_FILE = (lambda path: BPETokenizer(BPEConfig(path=path)), "tokenizer.json")
SENTENCEPIECE_FILE = (lambda path: SentencePieceTokenizer(SentencePieceConfig(path=path)),
                      "own.model")


@pytest.mark.parametrize(("kind", "content", "problem"), [
    (BPE_FILE, None, "is missing"),
    (BPE_FILE, b"{ not json", "is damaged"),
    (BPE_FILE, b'{"version": "1.0"}', "is damaged"),
    (BPE_FILE, b"\xff\xfe binary", "is damaged"),
    (SENTENCEPIECE_FILE, None, "is missing"),
    (SENTENCEPIECE_FILE, b"not a model", "is damaged (it is not a SentencePiece model)"),
    (SENTENCEPIECE_FILE, b"", "is damaged (it holds no SentencePiece model)"),
])
def test_a_tokenizer_file_missing_or_damaged_is_one_line_naming_it(tmp_path, kind, content,
                                                                   problem):
    make, name = kind
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ZooError) as caught:
        make(str(path)).train(["text"])
    message = str(caught.value)
    assert message.startswith(f"tokenizer.path {str(path)!r} {problem}")
    assert "unset tokenizer.path" in message
    assert "\n" not in message


def test_the_preference_list_starts_with_zoos_own_token():
    assert END_OF_TEXT_PREFERENCE[0] == END_OF_TEXT == EOT
    assert choose_end_of_text(["[SEP]", "<eos>", "<pad>"]) == "<eos>"
    assert choose_end_of_text(["<pad>", "<mask>"]) is None


# --- word ---------------------------------------------------------------------------------


def _word(texts: list[str], vocab_size: int | None = None) -> WordTokenizer:
    tokenizer = WordTokenizer()
    tokenizer.train(texts, vocab_size)
    return tokenizer


def test_word_pieces_are_words_marks_newlines_and_space_runs():
    tokenizer = _word(["Don't stop,\tmy  café!\r\n\n"])
    texts = [tokenizer.decode([i]) for i in tokenizer.encode("Don't stop,\tmy  café!\r\n\n")]
    assert texts == ["Don", "'", "t", " ", "stop", ",", "\t", "my", "  ", "café", "!", "\r",
                     "\n", "\n"]


def test_word_round_trips_text_made_of_known_pieces(training_text):
    text = "But soft,\n\n  what light   through\tyonder window?\r\n"
    tokenizer = _word([training_text, text])  # the default 10,000 pieces hold all of this text
    assert tokenizer.decode(tokenizer.encode(training_text)) == training_text
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert tokenizer.decode(tokenizer.encode("window, soft  light?\n")) == "window, soft  light?\n"


def test_word_unknown_pieces_become_unk_and_decode_as_replacement():
    tokenizer = _word(["the cat sat on the mat ."])
    ids = tokenizer.encode("the dog sat  on the mat!")
    unk = tokenizer.special_tokens["<unk>"]
    assert ids.count(unk) == 3  # "dog", the double space, "!"
    assert tokenizer.decode(ids) == "the \ufffd sat\ufffdon the mat\ufffd"
    spelled = _word(["<unk> is text"])
    assert spelled.encode("<unk>") == [spelled.encode(p)[0] for p in ("<", "unk", ">")]
    assert spelled.decode(spelled.encode("<unk>")) == "<unk>"  # the text "<unk>" is not unknown


def test_word_vocabulary_is_the_most_frequent_pieces_after_the_specials():
    tokenizer = _word(["b a a c c c b d"], vocab_size=3)
    assert tokenizer.vocab_size == 5
    assert tokenizer.special_tokens == {"<unk>": 0, EOT: 1}
    assert [tokenizer.decode([i]) for i in range(2, 5)] == [" ", "c", "a"]  # a, b tie: a first
    assert tokenizer.encode("d") == [0]
    config_sized = WordTokenizer(WordConfig(vocab_size=2))
    config_sized.train(["b a a c c c b d"])
    assert config_sized.vocab_size == 4


def test_word_save_and_load(tmp_path, training_text):
    tokenizer = _word([training_text], vocab_size=500)
    tokenizer.save(tmp_path)
    assert {"<unk>", EOT} <= set(json.loads((tmp_path / "tokenizer.json").read_text("utf-8"))
                                 ["model"]["vocab"])
    fresh = WordTokenizer()
    fresh.load(tmp_path)
    assert fresh.vocab_size == 502
    assert fresh.encode(training_text) == tokenizer.encode(training_text)
    assert fresh.decode(fresh.encode(SAMPLE)) == tokenizer.decode(tokenizer.encode(SAMPLE))


def test_word_refuses_a_file_whose_special_ids_moved(tmp_path, training_text):
    _hf_file(tmp_path, training_text, ["[UNK]"])  # a tokenizer.json whose id 0 is [UNK]
    with pytest.raises(ValueError, match="<unk> is not id 0"):
        WordTokenizer().load(tmp_path)


def test_word_is_registered(registry):
    component = registry.get("tokenizer", "word")
    assert component.default_config() == WordConfig()
    assert component.load_factory() is WordTokenizer
