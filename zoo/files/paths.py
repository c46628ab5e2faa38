"""The directories zoo creates: runs, exports and plugin packages, never over a user's files.

A new run is built in a staged sibling (``.zoo-tmp-PID-RANDOM-NAME``, see
:mod:`zoo.files.atomic`) and renamed to its name once its first checkpoint is
complete, so whatever kills the process, ``NAME`` either does not exist or
holds a loadable checkpoint. The process writing a run holds an exclusive
``flock`` on the run directory itself (the lock follows the directory through
the rename, and the kernel drops it when the process dies), so a second
writer of the same run is refused with one line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from itertools import count
from pathlib import Path

from zoo.errors import ZooError
from zoo.files import atomic

if sys.platform != "win32":
    import fcntl


def plan_new_directory(path: str | Path, what: str) -> Path:
    """``path`` if it does not exist yet or is an empty directory; else a ZooError.

    ``what`` names the directory in the error ("run directory", "export
    directory"). Nothing is created here: the caller makes the directory once
    its contents are ready, so a failure before then leaves nothing behind.
    """
    path = Path(path)
    if not is_free(path):
        raise ZooError(f"{what} {str(path)!r} already exists and is not empty; "
                       "choose another --out or remove it")
    return path


def is_free(path: Path) -> bool:
    """Whether ``path`` is missing or an empty directory: somewhere zoo may create."""
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def lock_directory(path: Path, what: str) -> int:
    """Take the exclusive lock on directory ``path``; return the descriptor that holds it.

    A directory another process holds is a ZooError naming it. The lock lasts
    until :func:`unlock` or the process's end, whatever ends it.
    """
    fd = atomic.lock(path)
    if fd is None:
        raise ZooError(f"{what} {str(path)!r} is being written by another zoo process; "
                       "wait for it to finish or stop it")
    return fd


@contextlib.contextmanager
def parent_locked(parent: Path) -> Iterator[None]:
    """Hold ``parent``'s lock for a moment: choosing and claiming a new name there is one step."""
    fd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if sys.platform != "win32":
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def being_created(path: Path) -> bool:
    """Whether a live zoo process is building ``path`` in a temporary sibling."""
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            match = atomic.TEMPORARY_NAME.match(entry.name)
            if match and match["name"] == path.name and (
                    atomic.process_alive(int(match["pid"])) or atomic.is_locked(entry)):
                return True
    return False


class StagedDirectory:
    """A new directory filled in a locked temporary sibling, renamed to its name by :meth:`publish`.

    ``path`` is where its files go now: the sibling until published, then the
    directory itself. Until then a kill leaves only the sibling, which the next
    zoo write in the same parent removes.
    """

    def __init__(self, target: Path, stage: Path, lock: int) -> None:
        self.target, self.path, self.lock = target, stage, lock
        self.published = False

    def publish(self) -> None:
        """Rename the staged directory to its name (an empty directory there is replaced)."""
        if self.published:
            return
        try:
            os.rename(self.path, self.target)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                raise
            raise ZooError(f"{str(self.target)!r} was created by something else while zoo was "
                           "writing it; choose another --out") from None
        atomic.fsync_directory(self.target.parent)
        self.path, self.published = self.target, True

    def discard(self) -> None:
        """Remove the staged directory unless it was published."""
        if not self.published:
            atomic.remove_path(self.path)

    def close(self) -> None:
        """Release the lock (the directory stays as it is)."""
        atomic.unlock(self.lock)


def stage_new_directory(target: str | Path, what: str, *,
                        numbered: bool = False) -> StagedDirectory:
    """Claim ``target`` (``numbered``: the first free of it, ``target-2``, ...) and stage it.

    Under the parent directory's lock: stale temporaries there are removed, a
    name is free when it is missing or an empty directory and no live zoo
    process is building it, and the staged sibling is created and locked.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with parent_locked(target.parent):
        atomic.remove_stale_temporaries(target.parent)
        candidates = (target if n == 1 else target.with_name(f"{target.name}-{n}")
                      for n in count(1))
        for candidate in candidates:
            if is_free(candidate) and not being_created(candidate):
                break
            if not numbered:
                plan_new_directory(candidate, what)  # a non-empty directory: its own message
                raise ZooError(f"{what} {str(candidate)!r} is being created by another zoo "
                               "process; choose another --out")
        stage = atomic.make_temporary_directory(target.parent, candidate.name)
    return StagedDirectory(candidate, stage, lock_directory(stage, what))


class ExistingDirectory(StagedDirectory):
    """A run that already exists (``--resume``), locked while it is written."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(path, path, lock_directory(path, what))
        self.published = True
        atomic.remove_stale_temporaries(path)


class UnlockedDirectory(StagedDirectory):
    """Where a process that writes nothing (a DDP rank other than 0) finds the run."""

    def __init__(self, path: Path) -> None:
        self.target, self.path, self.published = path, path, True

    def close(self) -> None:
        pass
