"""Each built-in tokenizer's ``portable()`` says how to encode and decode exactly as it does.

A client outside Python (the web page, the numpy loop of docs/export-format.md) follows these
descriptions; here they are followed in Python and compared with the tokenizer.
The web page's JavaScript is compared in Chromium (tests/zoo_exports/test_web_page.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.registry.host import Registry

TEXT = "ROMEO: Is the day so young?\n\tAy,  sir; 'tis 1592.\nJULIET: Café naïve 😀 ☃\n"


def trained(registry: Registry, name: str, corpus: str, **options):
    component = registry.get("tokenizer", name)
    config = component.config(**options)
    tokenizer = component.load_factory()(config)
    tokenizer.train([corpus], getattr(config, "vocab_size", None))
    return tokenizer


@pytest.fixture(scope="module")
def corpus(small_corpus: Path) -> str:
    return small_corpus.read_text("utf-8")


def test_char_pieces_are_code_points_and_unseen_ones_are_the_unknown_id(registry, corpus):
    tokenizer = trained(registry, "char", corpus)
    portable = tokenizer.portable()
    special = set(portable["special_ids"])
    index = {piece: i for i, piece in enumerate(portable["pieces"]) if i not in special}
    ids = [index.get(ch, portable["unknown_id"]) for ch in TEXT]  # code points, not UTF-16
    assert ids == tokenizer.encode(TEXT)
    assert "".join(portable["pieces"][i] for i in ids) == tokenizer.decode(ids)
    assert portable["pieces"][portable["end_of_text_id"]] == ""
    assert tokenizer.decode([portable["end_of_text_id"]]) == ""


def test_byte_ids_are_the_utf8_bytes(registry, corpus):
    tokenizer = trained(registry, "byte", corpus)
    portable = tokenizer.portable()
    assert list(TEXT.encode("utf-8")) == tokenizer.encode(TEXT)
    assert portable == {"scheme": "byte", "end_of_text_id": 256}


def test_word_pieces_decode_as_the_tokenizer_does(registry, corpus):
    tokenizer = trained(registry, "word", corpus, vocab_size=300)
    portable = tokenizer.portable()
    ids = tokenizer.encode(TEXT)
    assert "".join(portable["pieces"][i] for i in ids) == tokenizer.decode(ids)
    assert portable["file"] == "tokenizer.json" and portable["unknown_id"] == 0


@pytest.mark.parametrize("name,options", [("bpe", {"vocab_size": 300}),
                                          ("sentencepiece", {"vocab_size": 400})])
def test_huggingface_scheme_file_encodes_line_by_line_as_the_tokenizer(
        registry, corpus, name, options, tmp_path):
    from tokenizers import Tokenizer

    tokenizer = trained(registry, name, corpus, **options)
    tokenizer.save(tmp_path)
    portable = tokenizer.portable()
    assert portable["scheme"] == "huggingface"
    file = Tokenizer.from_file(str(tmp_path / portable["file"]))
    newline = portable["newline_id"]
    lines = TEXT.split("\n") if newline is not None else [TEXT]
    ids: list[int] = []
    for index, line in enumerate(lines):
        ids += ([newline] if index else []) + file.encode(line, add_special_tokens=False).ids
    assert ids == tokenizer.encode(TEXT)
    kept = [i for i in ids if i not in portable["special_ids"]]
    assert file.decode(kept) == tokenizer.decode(ids)


def test_a_sentencepiece_model_without_an_exact_rewrite_keeps_its_own_scheme(
        registry, corpus, tmp_path):
    tokenizer = trained(registry, "sentencepiece", corpus, vocab_size=400, model_type="bpe")
    tokenizer.save(tmp_path)
    assert tokenizer.portable()["scheme"] == "sentencepiece"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sentencepiece.json",
                                                         "sentencepiece.model"]
