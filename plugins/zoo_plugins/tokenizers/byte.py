"""The ``byte`` tokenizer: the 256 byte values of the UTF-8 encoding; nothing is unknown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_FILE = "byte.json"


@dataclass
class ByteConfig:
    """The byte tokenizer has no options: its vocabulary is always the 256 bytes."""


class ByteTokenizer:
    """Token ``i`` is byte ``i``. Decoding a cut-off multi-byte character gives U+FFFD."""

    vocab_size = 256
    special_tokens: dict[str, int] = {}

    def __init__(self, config: ByteConfig | None = None) -> None:
        self.config = config or ByteConfig()

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        """Nothing to learn."""

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: Sequence[int]) -> str:
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")

    def save(self, directory: Path) -> None:
        (Path(directory) / _FILE).write_text(json.dumps({"type": "byte"}), "utf-8")

    def load(self, directory: Path) -> None:
        json.loads((Path(directory) / _FILE).read_text("utf-8"))
