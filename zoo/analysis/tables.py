"""Tables as ``zoo list`` and ``zoo compare`` print them, and as a notebook shows them (HTML)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from html import escape


def text_table(rows: Sequence[Sequence[str]], right_aligned: Collection[int] = ()) -> str:
    """Rows of cells (the first is the header) in columns two spaces apart.

    Columns whose index is in ``right_aligned`` (numbers) are padded on the
    left; trailing spaces are dropped from every line.
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.rjust(width) if i in right_aligned else cell.ljust(width)
                  for i, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip()
        for row in rows)


def html_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells (the first is the header) as an HTML table, every cell escaped."""
    header, *body = rows
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    cells = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
                    for row in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"


def html_card(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """A titled table of (label, value) rows: what a run or an export shows in a notebook."""
    body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
                   for k, v in rows)
    return f"<div><strong>{escape(title)}</strong><table>{body}</table></div>"
