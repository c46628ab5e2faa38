"""The ``text`` dataset: any local UTF-8 files, joined and split by characters.

``dataset.path`` lists files, folders (every file inside, recursively, in
sorted order, hidden ones skipped) and globs (``corpus/*.txt``,
``books/**/*.md``). The files are joined with a newline between them; the
first 90% of the characters train and the last 10% validate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zoo.config import require
from zoo.errors import ZooError
from zoo_plugins.datasets.splits import split_text


@dataclass
class TextConfig:
    """Options of the ``text`` dataset."""

    path: list[str] = field(default_factory=list)  # files, folders or globs, in this order
    val_fraction: float = 0.1  # share of characters, taken from the end, held out for validation

    def __post_init__(self) -> None:
        require(self, "val_fraction", above=0, below=1)  # both splits need text


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


class TextDataset:
    """The concatenation of local files: first 90% of characters train, the rest validate."""

    def __init__(self, config: TextConfig) -> None:
        if not config.path:
            raise ZooError("the text dataset needs files: --data FILE or --set dataset.path=FILE")
        self.config = config
        self._splits: dict[str, str] | None = None

    def texts(self, split: str) -> list[str]:
        if self._splits is None:
            text = "\n".join(read_utf8(p) for p in expand_paths(self.config.path))
            self._splits = split_text(text, self.config.val_fraction)
        return [self._splits[split]]
