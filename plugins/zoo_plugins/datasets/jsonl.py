"""The ``jsonl`` dataset: one document per record of local JSON Lines files.

``dataset.path`` lists ``.jsonl`` files (or folders and globs, read as the
``text`` dataset reads them); every non-blank line is one JSON object, and
its ``dataset.field`` (default ``text``) is one document. A record whose
field is the empty string is skipped; a line that is not a JSON object, or
lacks the field, or holds something other than a string there, stops with
one error naming the file and the line. The records are shuffled, in an
order fixed by ``dataset.seed`` (``dataset.shuffle=false`` keeps the order
given), and the first 90% train and the last 10% validate.
``dataset.val_path`` and ``dataset.test_path`` name held-out files of
records: given validation files, all of ``dataset.path`` trains; given test
files, the dataset has a ``test`` split. A document longer than the
training window is cut into windows by the core, so no text is lost.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from zoo.plugin import ROWS, ZooError, require
from zoo_plugins.datasets.splits import (
    FileSplits,
    require_choice,
    require_documents,
    shuffled,
    split_documents,
)
from zoo_plugins.datasets.text import expand_paths, read_utf8


@dataclass
class JsonlConfig:
    """Options of the ``jsonl`` dataset."""

    #: A run recorded before ``shuffle`` existed split its records in file order.
    OLD_RUN_DEFAULTS: ClassVar[dict[str, Any]] = {"shuffle": False}

    path: list[str] = dataclasses.field(default_factory=list)  # .jsonl files or globs, in order
    val_path: list[str] = dataclasses.field(default_factory=list)  # validation files: path trains
    test_path: list[str] = dataclasses.field(default_factory=list)  # test files (--split test)
    field: str = "text"  # the string field of each record that is one document
    val_fraction: float = 0.1  # share of the records held out from the end (not with val_path)
    shuffle: bool = True  # shuffle path's records before the split (false: the order given)
    seed: int = 3407  # fixes the shuffled order: the same seed and files give the same split
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


class JsonlDataset(FileSplits):
    """The records of local JSON Lines files, one document each, shuffled and split 90/10.

    Validation and test files, when given, are splits of their own.
    """

    def __init__(self, config: JsonlConfig) -> None:
        if not config.path:
            raise ZooError("the jsonl dataset needs files: --set dataset.path=FILE.jsonl")
        super().__init__(config)
        self.config: JsonlConfig = config

    def _records_of(self, key: str) -> tuple[list[str], str]:
        """The records of the files ``dataset.KEY`` names, in order, and where they came from."""
        files = expand_paths(getattr(self.config, key), key)
        documents = [doc for path in files for doc in records(path, self.config.field)]
        return documents, f"dataset.{key} ({len(files)} file(s), field {self.config.field!r})"

    def _held_out(self, key: str) -> list[str]:
        documents, source = self._records_of(key)
        return require_documents(documents, source, f"check the files dataset.{key} names")

    def _from_path(self) -> dict[str, list[str]]:
        documents, source = self._records_of("path")
        if self.config.shuffle:
            documents = shuffled(documents, self.config.seed)
        if self.config.val_path:  # all of path trains
            return {"train": require_documents(documents, source, "give training records")}
        return split_documents(documents, self.config.val_fraction, source=source,
                               way_out="give more records")
