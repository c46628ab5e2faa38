"""The ``char`` tokenizer: one id per training character after ``<unk>`` (0) and end of text (1)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoo.errors import ZooError
from zoo_plugins.tokenizers.char import CharConfig, CharTokenizer

TRAIN = ["First Citizen:\nBefore we proceed any further, hear me speak.\n", "Café — naïve 😀!\n"]
ALPHABET = sorted(set("".join(TRAIN)))


def trained(config: CharConfig | None = None) -> CharTokenizer:
    tokenizer = CharTokenizer(config)
    tokenizer.train(TRAIN)
    return tokenizer


def test_round_trip_on_the_training_text():
    tokenizer = trained()
    for text in TRAIN:
        ids = tokenizer.encode(text)
        assert len(ids) == len(text)  # one token per character
        assert tokenizer.decode(ids) == text


def test_vocab_size_is_distinct_characters_plus_unk_and_end_of_text():
    tokenizer = trained()
    assert tokenizer.vocab_size == len(ALPHABET) + 2
    ids = tokenizer.encode("".join(ALPHABET))
    assert sorted(ids) == list(range(2, len(ALPHABET) + 2))  # every id but 0 and 1 is a character


def test_vocab_size_argument_does_not_change_the_vocabulary():
    tokenizer = CharTokenizer()
    tokenizer.train(TRAIN, vocab_size=5)
    assert tokenizer.vocab_size == len(ALPHABET) + 2


def test_unseen_character_becomes_unk_and_decodes_to_replacement_character():
    tokenizer = trained()
    assert "Z" not in ALPHABET
    ids = tokenizer.encode("hZ")
    assert ids[0] == tokenizer.encode("h")[0]
    assert ids[1] == 0
    assert tokenizer.special_tokens == {"<unk>": 0, "<|endoftext|>": 1}
    assert tokenizer.decode(ids) == "h\ufffd"


def test_unknown_error_names_the_character():
    tokenizer = trained(CharConfig(unknown="error"))
    assert tokenizer.encode("hear") == trained().encode("hear")
    with pytest.raises(ZooError) as caught:
        tokenizer.encode("hear Zounds")
    assert "'Z'" in str(caught.value)


def test_save_then_load_in_a_fresh_tokenizer(tmp_path):
    tokenizer = trained()
    tokenizer.save(tmp_path)
    fresh = CharTokenizer()
    fresh.load(tmp_path)
    assert fresh.vocab_size == tokenizer.vocab_size
    sample = "".join(TRAIN) + "unseen: Z§"
    assert fresh.encode(sample) == tokenizer.encode(sample)
    ids = tokenizer.encode(sample)
    assert fresh.decode(ids) == tokenizer.decode(ids)
    assert fresh.decode(fresh.encode(TRAIN[1])) == TRAIN[1]  # non-ASCII survives the file


@given(st.text(alphabet=ALPHABET, max_size=200))
def test_decode_inverts_encode_on_the_training_alphabet(text):
    tokenizer = trained()
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_importing_the_tokenizer_does_not_import_torch():
    code = "import sys\nimport zoo_plugins.tokenizers.char\nprint('torch' in sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    assert result.stdout.strip() == "False"
