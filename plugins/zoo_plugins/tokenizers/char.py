"""The ``char`` tokenizer: one token per character seen in the training text.

A character the training text never contained is, by default, encoded as the
``<unk>`` token (id 0), which decodes to U+FFFD (``�``). With
``tokenizer.unknown = "error"`` it is refused with a message naming the
character instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from zoo.errors import ZooError

UNK = "<unk>"
UNK_TEXT = "\ufffd"
_FILE = "char.json"


@dataclass
class CharConfig:
    """Options of the ``char`` tokenizer."""

    unknown: Literal["unk", "error"] = "unk"  # unseen character: map to <unk>, or raise an error


class CharTokenizer:
    """Maps each distinct training character to an id; id 0 is ``<unk>``."""

    def __init__(self, config: CharConfig | None = None) -> None:
        self.config = config or CharConfig()
        self.chars: list[str] = []
        self._index: dict[str, int] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    @property
    def special_tokens(self) -> dict[str, int]:
        return {UNK: 0}

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        """Learn the character set; ``vocab_size`` is ignored (it is the set's size + 1)."""
        self._set_chars(sorted(set().union(*map(set, texts))))

    def _set_chars(self, chars: list[str]) -> None:
        self.chars = chars
        self._index = {ch: i + 1 for i, ch in enumerate(chars)}

    def encode(self, text: str) -> list[int]:
        index = self._index
        if self.config.unknown == "error":
            try:
                return [index[ch] for ch in text]
            except KeyError as error:
                raise ZooError(
                    f"character {error.args[0]!r} is not in the char vocabulary; "
                    "set tokenizer.unknown=unk to map it to <unk>"
                ) from None
        return [index.get(ch, 0) for ch in text]

    def decode(self, ids: Sequence[int]) -> str:
        chars = self.chars
        return "".join(chars[i - 1] if 0 < i <= len(chars) else UNK_TEXT for i in ids)

    def save(self, directory: Path) -> None:
        payload = {"type": "char", "unknown_token": UNK, "chars": self.chars}
        (Path(directory) / _FILE).write_text(json.dumps(payload, ensure_ascii=False), "utf-8")

    def load(self, directory: Path) -> None:
        """Read ``char.json``; a file of another shape is a ValueError, not a wrong vocabulary."""
        payload = json.loads((Path(directory) / _FILE).read_text("utf-8"))
        chars = payload.get("chars") if isinstance(payload, dict) else None
        if not isinstance(chars, list) or not all(isinstance(c, str) and len(c) == 1
                                                  for c in chars) or len(set(chars)) < len(chars):
            raise ValueError(f"{_FILE} holds no list of distinct characters under 'chars'")
        self._set_chars(chars)
