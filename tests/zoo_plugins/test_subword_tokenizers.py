"""byte, bpe and sentencepiece: train, encode, decode, save/load, and what each cannot represent."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoo.errors import ZooError
from zoo_plugins.tokenizers.bpe import BPEConfig, BPETokenizer
from zoo_plugins.tokenizers.byte import ByteTokenizer
from zoo_plugins.tokenizers.sentencepiece import SentencePieceConfig, SentencePieceTokenizer

ANY_TEXT = st.text(max_size=200)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def training_text(tiny_shakespeare) -> str:
    return tiny_shakespeare.read_text("utf-8")[:60_000]


@pytest.fixture(scope="module")
def bpe(training_text) -> BPETokenizer:
    tokenizer = BPETokenizer(BPEConfig(vocab_size=400))
    tokenizer.train([training_text])
    return tokenizer


@pytest.fixture(scope="module", params=["unigram", "bpe"])
def sentencepiece(request, training_text) -> SentencePieceTokenizer:
    tokenizer = SentencePieceTokenizer(SentencePieceConfig(model_type=request.param,
                                                           vocab_size=400))
    tokenizer.train([training_text])
    return tokenizer


@SETTINGS
@given(text=ANY_TEXT)
def test_byte_round_trips_any_unicode(text):
    tokenizer = ByteTokenizer()
    ids = tokenizer.encode(text)
    assert ids == list(text.encode("utf-8"))
    assert tokenizer.decode(ids) == text


def test_byte_decodes_a_cut_character_as_replacement():
    assert ByteTokenizer().decode(list("é".encode())[:1]) == "\ufffd"


@SETTINGS
@given(text=ANY_TEXT)
def test_bpe_round_trips_any_unicode(bpe, text):
    assert bpe.decode(bpe.encode(text)) == text


def test_bpe_learns_merges_of_the_requested_size(bpe, training_text):
    assert bpe.vocab_size == 400
    ids = bpe.encode(training_text[:5000])
    assert len(ids) < 5000 * 0.6  # merges make tokens longer than one byte on average


def test_bpe_rejects_a_vocabulary_smaller_than_the_bytes(training_text):
    with pytest.raises(ZooError, match="at least 257"):
        BPETokenizer(BPEConfig(vocab_size=100)).train([training_text])


@SETTINGS
@given(text=ANY_TEXT.filter(lambda t: "\u2581" not in t))
def test_sentencepiece_round_trips_unicode_without_its_space_marker(sentencepiece, text):
    assert sentencepiece.decode(sentencepiece.encode(text)) == text


def test_sentencepiece_decodes_its_space_marker_as_a_space(sentencepiece):
    """The one documented loss: U+2581 is SentencePiece's own marker for a space."""
    assert sentencepiece.decode(sentencepiece.encode("a\u2581b")) == "a b"


def test_sentencepiece_spells_unseen_characters_with_bytes(sentencepiece):
    ids = sentencepiece.encode("😀")
    assert len(ids) == 4  # the four UTF-8 bytes, each its own byte-fallback token
    assert sentencepiece.decode(ids) == "😀"


def test_sentencepiece_keeps_newlines_and_runs_of_spaces(sentencepiece):
    text = "ROMEO:\n  Soft,   what light\n\n\nthrough yonder window breaks?\n"
    assert sentencepiece.decode(sentencepiece.encode(text)) == text
    assert sentencepiece.vocab_size == 400


@pytest.mark.parametrize("kind", ["byte", "bpe", "sentencepiece"])
def test_save_and_load_give_the_same_tokenizer(kind, bpe, sentencepiece, tmp_path,
                                               training_text):
    tokenizer = {"byte": ByteTokenizer(), "bpe": bpe, "sentencepiece": sentencepiece}[kind]
    tokenizer.save(tmp_path)
    fresh = type(tokenizer)(tokenizer.config)
    fresh.load(tmp_path)
    sample = training_text[1000:3000]
    assert fresh.encode(sample) == tokenizer.encode(sample)
    assert fresh.vocab_size == tokenizer.vocab_size


@pytest.mark.parametrize("module", ["byte", "bpe", "sentencepiece", "plugin"])
def test_tokenizer_modules_never_import_torch(module):
    code = (f"import sys, zoo_plugins.tokenizers.{module}\n"
            "assert 'torch' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_sentencepiece_vocabulary_too_small_is_one_clear_line(training_text):
    with pytest.raises(ZooError) as error:
        SentencePieceTokenizer(SentencePieceConfig(vocab_size=280)).train([training_text])
    message = str(error.value)
    assert message.startswith("tokenizer.vocab_size=280 is too small for this corpus")
    assert "\n" not in message
