"""The tinyshakespeare dataset: the standard file, packaged with zoo and checked on every read."""

from __future__ import annotations

import gzip
import hashlib
import random
from pathlib import Path

import pytest

from zoo.errors import ZooError
from zoo_plugins.datasets import tinyshakespeare
from zoo_plugins.datasets.tinyshakespeare import TinyShakespeareConfig, TinyShakespeareDataset


def test_the_packaged_copy_is_the_standard_file_split_like_nanogpt():
    dataset = TinyShakespeareDataset(TinyShakespeareConfig())
    [train], [val] = dataset.texts("train"), dataset.texts("val")
    assert (len(train), len(val)) == (1_003_854, 111_540)
    assert train.startswith("First Citizen:\nBefore we proceed any further")
    text = (train + val).encode("utf-8")
    assert hashlib.sha256(text).hexdigest() == tinyshakespeare.SHA256
    assert len(set(train + val)) == 65


def test_a_given_path_is_read_instead(tmp_path):
    corpus = tmp_path / "mine.txt"
    corpus.write_text("abcdefghij" * 10, "utf-8")
    dataset = TinyShakespeareDataset(TinyShakespeareConfig(path=str(corpus), val_fraction=0.2))
    assert dataset.texts("val") == ["abcdefghij" * 2]


def _package_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """Point the dataset at a package folder whose corpus file holds ``data``."""
    folder = tmp_path / "package"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / tinyshakespeare.PACKAGED_FILE).write_bytes(data)
    monkeypatch.setattr(tinyshakespeare.resources, "files", lambda package: folder)


@pytest.mark.parametrize(("data", "problem"), [
    (gzip.compress(b"To be or not to be\n" * 100), "is damaged"),
    (b"not gzip at all", "cannot be read"),
    (gzip.compress(random.Random(0).randbytes(100_000))[:5000], "cannot be read"),
], ids=["other text", "not gzip", "truncated"])
def test_a_damaged_installation_is_one_line_saying_reinstall(tmp_path, monkeypatch, data,
                                                              problem):
    _package_with(tmp_path, monkeypatch, data)
    with pytest.raises(ZooError) as error:
        TinyShakespeareDataset(TinyShakespeareConfig()).texts("train")
    message = str(error.value)
    assert problem in message and "reinstall zoo-lm" in message and "\n" not in message
