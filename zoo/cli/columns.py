"""Texts side by side in columns, for a terminal (the temperature comparison). torch-free."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence

GUTTER = " | "


def side_by_side(titles: Sequence[str], texts: Sequence[str], width: int) -> str:
    """``texts`` in columns under their ``titles``, wrapped to fit ``width`` characters.

    Each text keeps its own line breaks; long lines wrap within the column.
    """
    column = max(12, (width - len(GUTTER) * (len(texts) - 1)) // max(1, len(texts)))
    blocks = []
    for title, text in zip(titles, texts, strict=True):
        lines = [title[:column], "-" * min(column, max(len(title), 1))]
        for line in text.split("\n"):
            lines += textwrap.wrap(line, column, replace_whitespace=False,
                                   drop_whitespace=False) or [""]
        blocks.append(lines)
    rows = itertools.zip_longest(*blocks, fillvalue="")
    return "\n".join(GUTTER.join(cell.ljust(column) for cell in row).rstrip() for row in rows)
