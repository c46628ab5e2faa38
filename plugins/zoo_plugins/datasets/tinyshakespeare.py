"""The ``tinyshakespeare`` dataset: char-rnn's standard 1,115,394-character file.

Found, in order: the file at ``dataset.path``; the copy in the zoo cache
(``$ZOO_CACHE/datasets/tinyshakespeare.txt``); a download from ``dataset.url``
into that cache. A cached or downloaded file must match the known sha256.
Split as nanoGPT does: the first 90% of the characters train, the last 10%
validate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from zoo.errors import ZooError
from zoo_plugins.datasets.splits import split_text
from zoo_plugins.datasets.text import read_utf8

URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
FILENAME = "tinyshakespeare.txt"


@dataclass
class TinyShakespeareConfig:
    """Options of the ``tinyshakespeare`` dataset."""

    path: str = ""  # the file; empty: the cached copy, else a download
    url: str = URL  # where to download from when there is no file
    val_fraction: float = 0.1  # share of characters, taken from the end, held out for validation


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def download(url: str, target: Path, sha256: str) -> None:
    """Fetch ``url`` into ``target`` atomically, refusing content with the wrong checksum."""
    import urllib.request

    from zoo import atomic

    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - a fixed or user URL
        data = response.read()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ZooError(f"the download from {url} has sha256 {actual[:12]}…, expected "
                       f"{sha256[:12]}…; check dataset.url or put the file at {target}")
    with atomic.atomic_path(target) as temp:
        temp.write_bytes(data)


def locate(config: TinyShakespeareConfig) -> Path:
    """The path of the corpus, downloading it into the cache if needed."""
    from zoo.token_cache import cache_root

    if config.path:
        return Path(config.path)
    cached = cache_root() / "datasets" / FILENAME
    if cached.exists() and sha256_of(cached) == SHA256:
        return cached
    try:
        download(config.url, cached, SHA256)
    except OSError as error:
        raise ZooError(
            f"Tiny Shakespeare is not here and could not be downloaded ({error}); "
            f"put the file at {cached} or pass --set dataset.path=FILE"
        ) from None
    return cached


class TinyShakespeareDataset:
    """The standard file, split 90/10 by characters (1,003,854 / 111,540)."""

    def __init__(self, config: TinyShakespeareConfig) -> None:
        self.config = config
        self._splits: dict[str, str] | None = None

    def texts(self, split: str) -> list[str]:
        if self._splits is None:
            self._splits = split_text(read_utf8(locate(self.config)), self.config.val_fraction)
        return [self._splits[split]]
