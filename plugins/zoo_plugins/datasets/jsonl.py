"""The ``jsonl`` dataset: one document per record of local JSON Lines files.

``dataset.path`` lists ``.jsonl`` files (or folders and globs, read as the
``text`` dataset reads them); every non-blank line is one JSON object, and
its ``dataset.field`` (default ``text``) is one document. A record whose
field is the empty string is skipped; a line that is not a JSON object, or
lacks the field, or holds something other than a string there, stops with
one error naming the file and the line. In the order given, the first 90% of
the records train and the last 10% validate. A document longer than the
training window is cut into windows by the core, so no text is lost.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.plugin import ROWS, ZooError, require
from zoo_plugins.datasets.splits import require_choice, split_documents
from zoo_plugins.datasets.text import expand_paths, read_utf8


@dataclass
class JsonlConfig:
    """Options of the ``jsonl`` dataset."""

    path: list[str] = dataclasses.field(default_factory=list)  # .jsonl files or globs, in order
    field: str = "text"  # the string field of each record that is one document
    val_fraction: float = 0.1  # share of the records, taken from the end, held out for validation
    rows: str = "packed"  # packed: joined by end-of-text, cut in windows; padded: one per row

    def __post_init__(self) -> None:
        require(self, "val_fraction", above=0, below=1)  # both splits need records
        require_choice(self, "rows", ROWS)


def _kind(value: Any) -> str:
    """What a JSON value is, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def records(path: Path, field: str) -> list[str]:
    """The ``field`` of every record of one JSON Lines file, in order, empty strings skipped."""
    text = read_utf8(path).removeprefix("\ufeff")  # a byte-order mark is not JSON
    documents: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{str(path)!r} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ZooError(f"{where} is not JSON ({error.msg}, column {error.colno}); "
                           f'each line must be one object such as {{"{field}": "..."}}') from None
        if not isinstance(record, dict):
            raise ZooError(f"{where} is {_kind(record)}, not a JSON object; "
                           f'each line must be one object such as {{"{field}": "..."}}')
        if field not in record:
            keys = ", ".join(repr(key) for key in list(record)[:8]) or "none"
            raise ZooError(f"{where} has no field {field!r} (its fields: {keys}); "
                           "name the text field with --set dataset.field=NAME")
        value = record[field]
        if not isinstance(value, str):
            raise ZooError(f"{where}: field {field!r} is {_kind(value)}, not a string; "
                           "fix the line or name a text field with --set dataset.field=NAME")
        if value:
            documents.append(value)
    return documents


class JsonlDataset:
    """The records of local JSON Lines files, one document each, split 90/10 by records."""

    def __init__(self, config: JsonlConfig) -> None:
        if not config.path:
            raise ZooError("the jsonl dataset needs files: --set dataset.path=FILE.jsonl")
        self.config = config
        self._splits: dict[str, list[str]] | None = None

    def _load(self) -> dict[str, list[str]]:
        files = expand_paths(self.config.path)
        documents = [doc for path in files for doc in records(path, self.config.field)]
        return split_documents(
            documents, self.config.val_fraction,
            source=f"dataset.path ({len(files)} file(s), field {self.config.field!r})",
            way_out="give more records",
        )

    def texts(self, split: str) -> list[str]:
        if self._splits is None:
            self._splits = self._load()
        return list(self._splits[split])
