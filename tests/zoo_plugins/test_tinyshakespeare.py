"""The tinyshakespeare dataset: a given path, the cache, a checksummed download, offline errors."""

from __future__ import annotations

import shutil

import pytest

from zoo.errors import ZooError
from zoo_plugins.datasets.tinyshakespeare import (
    FILENAME,
    TinyShakespeareConfig,
    TinyShakespeareDataset,
    locate,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "datasets" / FILENAME


def test_standard_split_from_a_path(tiny_shakespeare):
    dataset = TinyShakespeareDataset(TinyShakespeareConfig(path=str(tiny_shakespeare)))
    [train], [val] = dataset.texts("train"), dataset.texts("val")
    assert (len(train), len(val)) == (1_003_854, 111_540)
    assert train.startswith("First Citizen:\nBefore we proceed any further")


def test_the_cached_copy_is_used_when_no_path_is_given(tiny_shakespeare, cache):
    cache.parent.mkdir(parents=True)
    shutil.copy(tiny_shakespeare, cache)
    assert locate(TinyShakespeareConfig(url="file:///nonexistent")) == cache


def test_download_is_checked_and_cached(tiny_shakespeare, cache):
    path = locate(TinyShakespeareConfig(url=tiny_shakespeare.as_uri()))
    assert path == cache and path.read_bytes() == tiny_shakespeare.read_bytes()


def test_download_with_the_wrong_checksum_is_refused(tmp_path, cache):
    impostor = tmp_path / "impostor.txt"
    impostor.write_text("To be or not to be\n" * 100)
    with pytest.raises(ZooError, match="has sha256 .* expected 86c4e6aa9db7"):
        locate(TinyShakespeareConfig(url=impostor.as_uri()))
    assert not cache.exists()


def test_offline_without_a_file_says_where_to_put_it(cache):
    with pytest.raises(ZooError) as error:
        locate(TinyShakespeareConfig(url="file:///nonexistent/input.txt"))
    message = str(error.value)
    assert str(cache) in message and "dataset.path" in message and "\n" not in message


def test_a_corrupt_cached_copy_is_replaced(tiny_shakespeare, cache):
    cache.parent.mkdir(parents=True)
    cache.write_text("truncated")
    assert locate(TinyShakespeareConfig(url=tiny_shakespeare.as_uri())) == cache
    assert cache.read_bytes() == tiny_shakespeare.read_bytes()
