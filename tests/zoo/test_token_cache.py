"""The token cache: encode once per (dataset content, tokenizer); invalidate on any change."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.data.streams import encode_documents
from zoo.data.token_cache import cached_splits
from zoo_plugins.tokenizers.char import CharTokenizer


class Corpus:
    def __init__(self, train: str, val: str) -> None:
        self.splits = {"train": [train], "val": [val]}

    def texts(self, split):
        return self.splits[split]


class CountingTokenizer(CharTokenizer):
    """The char tokenizer, counting how often it encodes."""

    calls = 0

    def encode(self, text):
        CountingTokenizer.calls += 1
        return super().encode(text)


@pytest.fixture
def tokenizer():
    CountingTokenizer.calls = 0
    tok = CountingTokenizer()
    tok.train(["abcdefgh \n"])
    return tok


def test_second_load_reads_the_cache_without_encoding(tmp_path, tokenizer):
    corpus = Corpus("abc abc abc\n" * 50, "cab bac\n" * 10)
    first = cached_splits(corpus, tokenizer, tmp_path)
    assert tokenizer.calls == 2
    second = cached_splits(corpus, tokenizer, tmp_path)
    assert tokenizer.calls == 2  # nothing encoded again
    for split in ("train", "val"):
        assert np.array_equal(first[split].ids, second[split].ids)
        assert second[split].num_chars == first[split].num_chars
    assert isinstance(second["train"].ids, np.memmap)
    assert second["train"].ids.dtype == np.uint16


def test_changed_text_invalidates(tmp_path, tokenizer):
    cached_splits(Corpus("abc\n" * 40, "abc\n"), tokenizer, tmp_path)
    changed = cached_splits(Corpus("abd\n" * 40, "abc\n"), tokenizer, tmp_path)
    assert tokenizer.calls == 4
    assert tokenizer.encode("d")[0] in changed["train"].ids  # the new text, not the cached one


def test_differently_trained_tokenizer_invalidates(tmp_path, tokenizer):
    corpus = Corpus("abc\n" * 40, "abc\n")
    cached_splits(corpus, tokenizer, tmp_path)
    other = CountingTokenizer()
    other.train(["zyxcba\n"])  # same class, different vocabulary
    streams = cached_splits(corpus, other, tmp_path)
    assert np.array_equal(streams["train"].ids, encode_documents(other, corpus.texts("train")).ids)
    assert len(list((tmp_path / "tokens").iterdir())) == 2


def test_an_unwritable_cache_still_works(tmp_path, tokenizer):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    corpus = Corpus("abc\n" * 40, "abc\n")
    streams = cached_splits(corpus, tokenizer, blocker)
    assert np.array_equal(streams["train"].ids,
                          encode_documents(tokenizer, corpus.texts("train")).ids)
