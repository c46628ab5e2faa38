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

In the last three, the split keeps documents whole: in the order given, the
first 90% of the documents train and the last 10% validate (shuffle the file
first if its order matters, e.g. when it is sorted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zoo.plugin import ROWS, ZooError, require
from zoo_plugins.datasets.splits import require_choice, split_documents, split_text

DOCUMENTS = ("whole", "file", "paragraph", "line")


@dataclass
class TextConfig:
    """Options of the ``text`` dataset."""

    path: list[str] = field(default_factory=list)  # files, folders or globs, in this order
    val_fraction: float = 0.1  # share held out from the end: of characters (whole) or documents
    documents: str = "whole"  # one document: whole (all files, as before), file, paragraph, line
    rows: str = "packed"  # packed: joined by end-of-text, cut in windows; padded: one per row

    def __post_init__(self) -> None:
        require(self, "val_fraction", above=0, below=1)  # both splits need text
        require_choice(self, "documents", DOCUMENTS)
        require_choice(self, "rows", ROWS)


def read_utf8(path: Path) -> str:
    """The file's text, or a ZooError naming the file and the first bad byte offset.

    Only regular files are read: a device or a pipe named by a run's
    ``dataset.path`` (say, in a run received from someone else) could block
    or never end, so it is refused.
    """
    if path.exists() and not path.is_dir() and not path.is_file():
        raise ZooError(f"{str(path)!r} is not a regular file (a device or a pipe); "
                       "give a text file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ZooError(f"text file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ZooError(f"{str(path)!r} is a directory; give the text files inside it") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ZooError(
            f"{str(path)!r} is not UTF-8 (bad byte at offset {error.start}); "
            "convert it, e.g. iconv -t utf-8"
        ) from None


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def expand_paths(patterns: list[str]) -> list[Path]:
    """The files named by each entry (a file, a folder or a glob), in order."""
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
            raise ZooError(f"no files match {pattern!r}; check dataset.path")
        files.extend(matches)
    return files


def paragraphs(text: str) -> list[str]:
    """The runs of non-blank lines of ``text``, each run joined with newlines.

    A blank line is empty or whitespace only; ``\\r\\n`` line ends become ``\\n``.
    """
    found: list[str] = []
    current: list[str] = []
    for line in [*text.replace("\r\n", "\n").split("\n"), ""]:
        if line.strip():
            current.append(line)
        elif current:
            found.append("\n".join(current))
            current = []
    return found


def lines(text: str) -> list[str]:
    """The non-blank lines of ``text``, stripped of surrounding whitespace."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def documents_of(files: list[str], documents: str) -> list[str]:
    """The documents of the files' texts, in order: each file, paragraph or line."""
    if documents == "file":
        return [text for text in files if text]  # an empty file holds no document
    cut = paragraphs if documents == "paragraph" else lines
    return [document for text in files for document in cut(text)]


class TextDataset:
    """Local files as one text split 90/10 by characters, or as documents split 90/10."""

    def __init__(self, config: TextConfig) -> None:
        if not config.path:
            raise ZooError("the text dataset needs files: --data FILE or --set dataset.path=FILE")
        self.config = config
        self._splits: dict[str, list[str]] | None = None

    def _load(self) -> dict[str, list[str]]:
        files = [read_utf8(p) for p in expand_paths(self.config.path)]
        mode = self.config.documents
        if mode == "whole":
            halves = split_text("\n".join(files), self.config.val_fraction)
            return {split: [text] for split, text in halves.items()}
        return split_documents(
            documents_of(files, mode), self.config.val_fraction,
            source=f"dataset.path ({len(files)} file(s)) with dataset.documents={mode}",
            way_out="give more text, or --set dataset.documents=whole to split by characters",
        )

    def texts(self, split: str) -> list[str]:
        if self._splits is None:
            self._splits = self._load()
        return list(self._splits[split])
