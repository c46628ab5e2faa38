"""The ``char`` tokenizer: one token per character seen in the training text.

Ids: ``<unk>`` is 0, the end-of-text token ``<|endoftext|>`` is 1, and the
training characters follow from 2 in sorted order. A character the training
text never contained is, by default, encoded as ``<unk>``, which decodes to
U+FFFD (``�``); with ``tokenizer.unknown = "error"`` it is refused with a
message naming the character instead. The end-of-text id decodes to ``""``;
``encode`` never yields it (the text ``<|endoftext|>`` is 13 characters).

A ``char.json`` saved before zoo had document boundaries has no end-of-text
token: it loads as it was saved, characters from id 1, ``end_of_text`` None.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from zoo.plugin import ZooError
from zoo_plugins.tokenizers.special import END_OF_TEXT, UNKNOWN, UNKNOWN_TEXT

UNK = UNKNOWN
UNK_TEXT = UNKNOWN_TEXT
_FILE = "char.json"


@dataclass
class CharConfig:
    """Options of the ``char`` tokenizer."""

    unknown: Literal["unk", "error"] = "unk"  # unseen character: map to <unk>, or raise an error


class CharTokenizer:
    """Maps each distinct training character to an id after ``<unk>`` (0) and end of text (1)."""

    unknown = UNK  # the unknown token's text, a key of special_tokens

    def __init__(self, config: CharConfig | None = None) -> None:
        self.config = config or CharConfig()
        self.end_of_text: str | None = END_OF_TEXT  # None only for a file saved without one
        self.chars: list[str] = []
        self._index: dict[str, int] = {}

    @property
    def _first(self) -> int:
        """The id of the first character: after <unk> and, when there is one, end of text."""
        return 1 if self.end_of_text is None else 2

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + self._first

    @property
    def special_tokens(self) -> dict[str, int]:
        if self.end_of_text is None:
            return {UNK: 0}
        return {UNK: 0, self.end_of_text: 1}

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        """Learn the character set; ``vocab_size`` is ignored (it is the set's size + 2)."""
        self.end_of_text = END_OF_TEXT
        self._set_chars(sorted(set().union(*map(set, texts))))

    def _set_chars(self, chars: list[str]) -> None:
        self.chars = chars
        self._index = {ch: i + self._first for i, ch in enumerate(chars)}

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
        chars, first = self.chars, self._first
        end_of_text = -1 if self.end_of_text is None else 1
        return "".join(chars[i - first] if first <= i < first + len(chars)
                       else "" if i == end_of_text else UNK_TEXT for i in ids)

    def portable(self) -> dict[str, object]:
        """Scheme ``char``: one token per Unicode code point, looked up in ``pieces``."""
        end_of_text = None if self.end_of_text is None else 1
        specials = [UNK_TEXT] + ([] if end_of_text is None else [""])
        return {"scheme": "char", "pieces": specials + self.chars, "unknown_id": 0,
                "end_of_text_id": end_of_text, "special_ids": list(range(len(specials))),
                "on_unknown": self.config.unknown}

    def save(self, directory: Path) -> None:
        payload: dict[str, object] = {"type": "char", "unknown_token": UNK}
        if self.end_of_text is not None:  # absent: the layout before end of text, kept as it was
            payload["end_of_text"] = self.end_of_text
        payload["chars"] = self.chars
        (Path(directory) / _FILE).write_text(json.dumps(payload, ensure_ascii=False), "utf-8")

    def load(self, directory: Path) -> None:
        """Read ``char.json``; a file of another shape is a ValueError, not a wrong vocabulary."""
        payload = json.loads((Path(directory) / _FILE).read_text("utf-8"))
        chars = payload.get("chars") if isinstance(payload, dict) else None
        if not isinstance(chars, list) or not all(isinstance(c, str) and len(c) == 1
                                                  for c in chars) or len(set(chars)) < len(chars):
            raise ValueError(f"{_FILE} holds no list of distinct characters under 'chars'")
        end_of_text = payload.get("end_of_text")
        if end_of_text is not None and (not isinstance(end_of_text, str) or end_of_text == UNK):
            raise ValueError(f"{_FILE} has an 'end_of_text' that is not a token's text")
        self.end_of_text = end_of_text
        self._set_chars(chars)
