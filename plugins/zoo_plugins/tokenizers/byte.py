"""The ``byte`` tokenizer: the 256 byte values of UTF-8 and end of text; nothing is unknown.

Ids: byte ``b`` is id ``b`` (0-255), ``<|endoftext|>`` is 256, so the
vocabulary has 257 tokens. ``encode`` never yields 256 and ``decode`` drops it.

``byte.json`` records the end-of-text token. A ``byte.json`` saved before zoo
had document boundaries (``{"type": "byte"}``), or none at all, is the old
form: 256 tokens and ``end_of_text`` None.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zoo_plugins.tokenizers.special import END_OF_TEXT

_FILE = "byte.json"
_BYTES = 256


@dataclass
class ByteConfig:
    """The byte tokenizer has no options: its vocabulary is always the 256 bytes and end of text."""


class ByteTokenizer:
    """Token ``i`` is byte ``i``. Decoding a cut-off multi-byte character gives U+FFFD."""

    unknown = None  # every string is a sequence of bytes

    def __init__(self, config: ByteConfig | None = None) -> None:
        self.config = config or ByteConfig()
        self.end_of_text: str | None = END_OF_TEXT  # None only for the form saved before it

    @property
    def vocab_size(self) -> int:
        return _BYTES if self.end_of_text is None else _BYTES + 1

    @property
    def special_tokens(self) -> dict[str, int]:
        return {} if self.end_of_text is None else {self.end_of_text: _BYTES}

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        """Nothing to learn; a trained byte tokenizer has the end-of-text token."""
        self.end_of_text = END_OF_TEXT

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: Sequence[int]) -> str:
        skip = -1 if self.end_of_text is None else _BYTES
        return bytes(int(i) for i in ids if i != skip).decode("utf-8", errors="replace")

    def portable(self) -> dict[str, object]:
        """Scheme ``byte``: ids 0-255 are the bytes of the text's UTF-8."""
        return {"scheme": "byte", "end_of_text_id": None if self.end_of_text is None else _BYTES}

    def save(self, directory: Path) -> None:
        payload = {"type": "byte"}
        if self.end_of_text is not None:  # absent: the 256-token form, kept as it was
            payload["end_of_text"] = self.end_of_text
        (Path(directory) / _FILE).write_text(json.dumps(payload), "utf-8")

    def load(self, directory: Path) -> None:
        """Read ``byte.json``; without one (or without ``end_of_text`` in it) the 256-token form."""
        path = Path(directory) / _FILE
        if not path.exists():
            self.end_of_text = None
            return
        payload = json.loads(path.read_text("utf-8"))
        if not isinstance(payload, dict):
            raise ValueError(f"{_FILE} holds no JSON object")
        end_of_text = payload.get("end_of_text")
        if end_of_text is not None and not isinstance(end_of_text, str):
            raise ValueError(f"{_FILE} has an 'end_of_text' that is not a token's text")
        self.end_of_text = end_of_text
