"""Files a command writes when asked (``--plot FILE``, ``--json FILE``): written whole,
and an existing file is never replaced without ``--force``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.files import atomic


def refuse_existing(path: Path, option: str, *, force: bool) -> None:
    """One line for an ``option`` file that is already there, unless ``force``."""
    if path.exists() and not force:
        raise ZooError(f"{option} {str(path)!r} already exists; choose another file or add "
                       "--force")


def save_figure(figure: Any, path: Path, *, force: bool) -> None:
    """Write ``figure`` to ``path`` (``--plot``) atomically, in the format its suffix names."""
    kind = path.suffix.lstrip(".").lower()
    supported = figure.canvas.get_supported_filetypes()
    if kind not in supported:
        raise ZooError(f"--plot {str(path)!r}: cannot write a {kind or 'suffix-less'} file; "
                       f"use one of .{', .'.join(sorted(supported))}")
    refuse_existing(path, "--plot", force=force)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(path) as temp:
        figure.savefig(temp, format=kind, dpi=120)


def save_text(text: str, path: Path, option: str, *, force: bool) -> None:
    """Write ``text`` to ``path`` (``--json`` and the like) atomically."""
    refuse_existing(path, option, force=force)
    atomic.write_text(path, text)
