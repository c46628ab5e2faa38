"""The ``tinyshakespeare`` dataset, the default: char-rnn's standard 1,115,394-character file.

The text ships inside zoo (``data/tinyshakespeare.txt.gz``, 434 kB; public
domain, as published with char-rnn), so it works offline on a fresh machine
and every number trained on it compares with nanoGPT's and char-rnn's.
``dataset.path`` reads another copy of the file instead. Split as nanoGPT
does: the first 90% of the characters train (1,003,854), the last 10%
validate (111,540).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from zoo.plugin import ZooError, require
from zoo_plugins.datasets.splits import split_text
from zoo_plugins.datasets.text import read_utf8

#: sha256 of the uncompressed standard file (char-rnn's data/tinyshakespeare/input.txt).
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
PACKAGED_FILE = "tinyshakespeare.txt.gz"


@dataclass
class TinyShakespeareConfig:
    """Options of the ``tinyshakespeare`` dataset."""

    path: str = ""  # another copy of the file to read; empty: the copy packaged with zoo
    val_fraction: float = 0.1  # share of characters, taken from the end, held out for validation

    def __post_init__(self) -> None:
        require(self, "val_fraction", above=0, below=1)  # both splits need text


def packaged_text() -> str:
    """The packaged corpus, checked against the standard file's sha256."""
    packaged = resources.files("zoo_plugins.datasets") / "data" / PACKAGED_FILE
    try:
        data = gzip.decompress(packaged.read_bytes())
    except (OSError, EOFError) as error:
        raise ZooError(f"the packaged Tiny Shakespeare ({packaged}) cannot be read ({error}); "
                       "reinstall zoo-lm") from None
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise ZooError(f"the packaged Tiny Shakespeare ({packaged}) is damaged (wrong sha256); "
                       "reinstall zoo-lm")
    return data.decode("utf-8")


class TinyShakespeareDataset:
    """The standard file, split 90/10 by characters (1,003,854 / 111,540)."""

    #: What model cards say of the text's licence.
    licence = ("public domain: Shakespeare's plays, as collected for Andrej Karpathy's char-rnn "
               "(github.com/karpathy/char-rnn, MIT)")

    def __init__(self, config: TinyShakespeareConfig) -> None:
        self.config = config
        self._splits: dict[str, str] | None = None

    def texts(self, split: str) -> list[str]:
        if self._splits is None:
            text = read_utf8(Path(self.config.path)) if self.config.path else packaged_text()
            self._splits = split_text(text, self.config.val_fraction)
        return [self._splits[split]]
