"""The directories zoo creates: runs, exports and plugin packages, never over a user's files."""

from __future__ import annotations

from pathlib import Path

from zoo.errors import ZooError


def plan_new_directory(path: str | Path, what: str) -> Path:
    """``path`` if it does not exist yet or is an empty directory; else a ZooError.

    ``what`` names the directory in the error ("run directory", "export
    directory"). Nothing is created here: the caller makes the directory once
    its contents are ready, so a failure before then leaves nothing behind.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ZooError(f"{what} {str(path)!r} already exists and is not empty; "
                       "choose another --out or remove it")
    return path
