"""The ``text`` dataset: any local UTF-8 files, as one text or as many documents.

``dataset.path`` lists files, folders (every file inside, recursively, in
sorted order, hidden ones skipped) and globs (``corpus/*.txt``,
``books/**/*.md``). ``dataset.documents`` says what one document is:

- ``whole`` (the default, as before): the files joined with a newline between
  them, one text; the first 90% of its characters train and the last 10%
  validate;
- ``file``: each file, as it is;
- ``paragraph``: each run of non-blank lines within a file (paragraphs are
  separated by blank lines);
- ``line``: each non-blank line, stripped of surrounding whitespace (as
  makemore reads its one-item-per-line files).

In the last three, the split keeps documents whole: the first 90% of the
documents train and the last 10% validate. ``dataset.shuffle`` shuffles them
first, in an order fixed by ``dataset.seed``; unset, it is on for lines and
paragraphs (a sorted file of items would otherwise validate on its tail) and
off for files. ``whole`` has no documents to shuffle and refuses it.

``dataset.val_path`` and ``dataset.test_path`` name held-out files, read the
same way: given validation files, all of ``dataset.path`` trains and
``val_fraction`` is unused; given test files, the dataset has a ``test``
split (``zoo eval --split test``), which it otherwise has not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from zoo.plugin import (
    ROWS,
    InvalidValue,
    ZooError,
    lines_of,
    paragraphs_of,
    read_text_file,
    require,
)
from zoo_plugins.datasets.splits import (
    FileSplits,
    require_choice,
    require_documents,
    shuffled,
    split_documents,
    split_text,
)

DOCUMENTS = ("whole", "file", "paragraph", "line")
SHUFFLED_BY_DEFAULT = ("paragraph", "line")  # items, often sorted: shuffled unless told not to


@dataclass
class TextConfig:
    """Options of the ``text`` dataset."""

    #: A run recorded before ``shuffle`` existed split its documents in file order, and one
    #: recorded before ``rows`` existed packed them.
    OLD_RUN_DEFAULTS: ClassVar[dict[str, Any]] = {"shuffle": False, "rows": "packed"}

    path: list[str] = field(default_factory=list)  # files, folders or globs, in this order
    val_path: list[str] = field(default_factory=list)  # validation files; given: all of path trains
    test_path: list[str] = field(default_factory=list)  # test files (zoo eval --split test)
    val_fraction: float = 0.1  # held out from the end: of characters (whole) or documents
    documents: str = "whole"  # one document: whole (all files, as before), file, paragraph, line
    shuffle: bool | None = None  # shuffle path's documents before the split; unset: line, paragraph
    seed: int = 3407  # fixes the shuffled order: the same seed and files give the same split
    rows: str | None = None  # packed (joined, windows) or padded (one a row); unset: by documents

    def __post_init__(self) -> None:
        require(self, "val_fraction", above=0, below=1)  # both splits need text
        require_choice(self, "documents", DOCUMENTS)
        if self.rows is not None:
            require_choice(self, "rows", ROWS)
        if self.shuffle and self.documents == "whole":
            raise InvalidValue("shuffle", self.shuffle, "false or unset with dataset.documents="
                               "whole (one text has no documents to shuffle; choose line, "
                               "paragraph or file)")

    @property
    def default_rows(self) -> str:
        """``rows`` when unset: one line a row (makemore's items: names, words), else packed."""
        return "padded" if self.documents == "line" else "packed"

    def shuffles(self) -> bool:
        """Whether the documents of ``path`` are shuffled: ``shuffle``, or its default."""
        if self.shuffle is None:
            return self.documents in SHUFFLED_BY_DEFAULT
        return self.shuffle


def read_utf8(path: Path) -> str:
    """The file's text, or a ZooError naming the file and the first bad byte offset.

    Only regular files are read: a device or a pipe named by a run's
    ``dataset.path`` (say, in a run received from someone else) could block
    or never end, so it is refused.
    """
    if path.exists() and not path.is_dir() and not path.is_file():
        raise ZooError(f"{str(path)!r} is not a regular file (a device or a pipe); "
                       "give a text file")
    return read_text_file(path)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def expand_paths(patterns: list[str], key: str = "path") -> list[Path]:
    """The files named by each entry (a file, a folder or a glob) of ``dataset.KEY``, in order."""
    files: list[Path] = []
    for pattern in patterns:
        path = Path(pattern).expanduser()
        if any(ch in pattern for ch in "*?["):
            anchor = Path(path.anchor) if path.is_absolute() else Path()
            relative = str(path.relative_to(anchor)) if path.is_absolute() else pattern
            matches = sorted(p for p in anchor.glob(relative) if p.is_file())
        elif path.is_dir():
            matches = sorted(
                p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path))
            )
        else:
            matches = [path]
        if not matches:
            raise ZooError(f"no files match {pattern!r}; check dataset.{key}")
        files.extend(matches)
    return files


def documents_of(files: list[str], documents: str) -> list[str]:
    """The documents of the files' texts, in order: each file, paragraph or line."""
    if documents == "file":
        return [text for text in files if text]  # an empty file holds no document
    cut = paragraphs_of if documents == "paragraph" else lines_of
    return [document for text in files for document in cut(text)]


class TextDataset(FileSplits):
    """Local files as one text split 90/10 by characters, or as documents split 90/10.

    Validation and test files, when given, are splits of their own.
    """

    def __init__(self, config: TextConfig) -> None:
        if not config.path:
            raise ZooError("the text dataset needs files: --data FILE or --set dataset.path=FILE")
        super().__init__(config)
        self.config: TextConfig = config

    def _texts_of(self, key: str) -> list[str]:
        """The text of each file that ``dataset.KEY`` names, in order."""
        return [read_utf8(p) for p in expand_paths(getattr(self.config, key), key)]

    def _documents_of(self, files: list[str]) -> list[str]:
        """The documents of the files' texts: one text of them all (whole), or their documents."""
        mode = self.config.documents
        return ["\n".join(files)] if mode == "whole" else documents_of(files, mode)

    def _source(self, key: str, files: list[str]) -> str:
        """Where documents came from, for an error: ``dataset.KEY``, its files, the mode."""
        mode = self.config.documents
        return f"dataset.{key} ({len(files)} file(s)) with dataset.documents={mode}"

    def _held_out(self, key: str) -> list[str]:
        files = self._texts_of(key)
        return require_documents(self._documents_of(files), self._source(key, files),
                                 f"check the files dataset.{key} names")

    def _from_path(self) -> dict[str, list[str]]:
        config = self.config
        files = self._texts_of("path")
        if config.documents == "whole" and not config.val_path:
            halves = split_text("\n".join(files), config.val_fraction)
            return {split: [text] for split, text in halves.items()}
        documents = self._documents_of(files)
        if config.shuffles():
            documents = shuffled(documents, config.seed)
        if config.val_path:  # all of path trains
            return {"train": require_documents(documents, self._source("path", files),
                                               "give training text")}
        return split_documents(
            documents, config.val_fraction, source=self._source("path", files),
            way_out="give more text, or --set dataset.documents=whole to split by characters",
        )
