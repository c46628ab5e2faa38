"""The text of README.md and of the docs site's pages, for the tests that check their examples.

README.md is the front door; the manual is the MkDocs site under ``docs/``
(``mkdocs.yml``). Tests that compare a documented example with what zoo prints,
or run it, read the page that holds it through :func:`page`, so a page that is
renamed or loses its example fails with the page named.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def page_path(name: str) -> Path:
    """The file of ``name``: ``"README.md"``, or a page of docs/ such as ``"cli.md"`` or
    ``"plugins/hooks.md"`` (the ``.md`` may be left out)."""
    if name in ("README", "README.md"):
        return REPO / "README.md"
    path = DOCS / (name if name.endswith(".md") else f"{name}.md")
    assert path.is_file(), f"docs/ has no page {path.relative_to(DOCS)}"
    return path


def page(name: str) -> str:
    """The text of README.md or of a docs page (see :func:`page_path`)."""
    return page_path(name).read_text("utf-8")


def fenced_block(name: str, first_line: str, language: str = "text") -> str:
    """The body of the page's fenced block in ``language`` whose first line starts with
    ``first_line``."""
    match = re.search(rf"```{language}\n({re.escape(first_line)}.*?)```", page(name), re.DOTALL)
    assert match, f"{page_path(name).relative_to(REPO)} has no ```{language} block starting " \
                  f"{first_line!r}"
    return match.group(1)


def all_pages() -> dict[str, str]:
    """Every page of docs/ by its name relative to docs/ (``"plugins/hooks.md"``), and
    README.md."""
    pages = {path.relative_to(DOCS).as_posix(): path.read_text("utf-8")
             for path in sorted(DOCS.rglob("*.md"))}
    return {"README.md": page("README.md"), **pages}
