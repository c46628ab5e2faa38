"""Atomic file writes: write into a temporary sibling, fsync, rename.

A crash at any moment leaves either the old file or the new one, never a
half-written file. Used for every file a run or an export directory holds.

Every temporary is named ``.zoo-tmp-PID-RANDOM-NAME`` (PID: the process that
writes it; NAME: what it becomes). A file is written inside such a temporary
directory, so whatever a writer creates beside its output (safetensors writes
its own ``.tmpXXXXXX`` and renames it) stays inside it too. The writer holds
a ``flock`` on its temporary directory while it fills it. A process killed
mid-write leaves its temporary behind; the next atomic write in the same
directory removes the ones whose process is no longer alive and whose lock is
free, and never the temporaries of a live process (not even one in another
PID namespace sharing the directory: its lock is still held).

Whatever fails inside a write (Python's own OSError, safetensors' or numpy's
report of a full disk) leaves as the OSError behind it
(:func:`zoo.files.write_errors.os_error_behind`), naming the file as the user
knows it, never its temporary.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zoo.files.write_errors import os_error_behind

if sys.platform != "win32":
    import fcntl

TEMPORARY_PREFIX = ".zoo-tmp-"
#: ``.zoo-tmp-PID-RANDOM-NAME``: the writer's process id, then what the temporary becomes.
TEMPORARY_NAME = re.compile(r"^\.zoo-tmp-(?P<pid>\d+)-(?P<random>[0-9a-f]+)-(?P<name>.+)$")


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_readable(path: Path, mode: int) -> None:
    """Give a written file or directory the permissions a plain create would have had."""
    os.chmod(path, mode & ~_umask())


def fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def final_path(path: str) -> str:
    """``path`` with each zoo temporary in it named as what it becomes, for messages.

    ``runs/.zoo-tmp-7-ab12-mine/config.json`` -> ``runs/mine/config.json``, and a
    file's holder ``.zoo-tmp-7-ab12-model.onnx/model.onnx`` -> ``model.onnx``.
    """
    parts: list[str] = []
    held = None  # the name of the file a temporary directory just named holds
    for part in Path(path).parts:
        if part == held:
            held = None
            continue
        match = TEMPORARY_NAME.match(part)
        held = match["name"] if match else None
        parts.append(match["name"] if match else part)
    return str(Path(*parts)) if parts else path


def write_failure(error: Exception, path: Path) -> OSError | None:
    """``error``, raised while ``path`` was written, as the OSError to raise instead.

    It keeps the errno of the failure behind ``error`` and names the file as
    the user knows it: the file the failure names with its temporaries named
    as what they become, or ``path`` itself when it names none (a library's
    error, a failed ``write``). ``error`` itself when that changes nothing;
    None when ``error`` is no failure of the operating system (a bug, a
    ZooError), which is then raised as it is.
    """
    behind = os_error_behind(error, Path(path).parent)
    if behind is None:
        return None
    first, second = (final_path(os.fsdecode(name)) if isinstance(name, str | bytes | os.PathLike)
                     else name
                     for name in (behind.filename, behind.filename2))
    if first in (None, ""):
        first, second = final_path(os.fspath(path)), None
    if behind is error and (first, second) == (error.filename, error.filename2):
        return error
    return OSError(behind.errno, behind.strerror, first, None, second)


@contextlib.contextmanager
def naming_write_failures(path: Path) -> Iterator[None]:
    """Raise any failure of the write of ``path`` inside as :func:`write_failure` gives it."""
    try:
        yield
    except Exception as error:
        failure = write_failure(error, path)
        if failure is None or failure is error:
            raise
        raise failure from error


def temporary_name(name: str) -> str:
    """``.zoo-tmp-PID-RANDOM-NAME``: recognisable, owned by this process, unique."""
    return f"{TEMPORARY_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{name}"


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (one we may not signal counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temporaries(directory: Path) -> list[Path]:
    """The zoo temporaries in ``directory`` whose writing process is dead."""
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return []
    stale = []
    for entry in entries:
        match = TEMPORARY_NAME.match(entry.name)
        if (match and int(match["pid"]) != os.getpid() and not process_alive(int(match["pid"]))
                and not is_locked(entry)):
            stale.append(entry)
    return stale


def lock(directory: Path) -> int | None:
    """Take the exclusive lock on ``directory`` without waiting: its descriptor, or None if held.

    The lock lasts until :func:`unlock` or the process's end, whatever ends it
    (where ``flock`` is missing, every lock is granted).
    """
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    if sys.platform == "win32":
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def unlock(fd: int | None) -> None:
    """Release a lock taken by :func:`lock`."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def is_locked(path: Path) -> bool:
    """Whether a process (any process, whatever its PID namespace) holds ``path``'s lock."""
    if not path.is_dir() or path.is_symlink():
        return False
    try:
        fd = lock(path)
    except OSError:
        return False
    unlock(fd)
    return fd is None


def remove_stale_temporaries(directory: Path) -> None:
    """Delete what killed zoo processes left half-written in ``directory``; never a live one's."""
    for entry in stale_temporaries(directory):
        remove_path(entry)


def remove_path(path: Path) -> None:
    """Delete a file or a directory tree; one already gone is no error."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def make_temporary_directory(parent: Path, name: str) -> Path:
    """Create ``parent/.zoo-tmp-PID-RANDOM-NAME`` (umask mode), clearing stale ones first."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(parent)
    temp = parent / temporary_name(name)
    temp.mkdir()
    return temp


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` atomically.

    The file gets the mode a plain ``open`` would give it, whatever the writer
    used (safetensors creates its files 0600). A failure (a full disk) leaves
    ``path`` as it was and no temporary, and is raised as :func:`write_failure`
    gives it.
    """
    path = Path(path)
    with naming_write_failures(path):
        holder = make_temporary_directory(path.parent, path.name)
        held = lock(holder)
        temp = holder / path.name
        try:
            yield temp
            with open(temp, "rb+") as handle:
                fsync_file(handle, temp)
            _make_readable(temp, 0o666)
            os.replace(temp, path)
            fsync_directory(path.parent)
        finally:
            remove_path(holder)
            unlock(held)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as temp:
        temp.write_text(text, encoding="utf-8")


def append_line(path: Path, line: str) -> None:
    """Append one line and flush it to disk (a log that a crash can only truncate at a line)."""
    with naming_write_failures(path), open(path, "a", encoding="utf-8") as handle:
        handle.write(line.rstrip("\n") + "\n")
        handle.flush()
        fsync_file(handle, path)


def fsync_file(handle: Any, path: Path) -> None:
    """Flush an open file to disk; a failure (a full disk, an I/O error) names ``path``."""
    try:
        os.fsync(handle.fileno())
    except OSError as error:
        raise OSError(error.errno, error.strerror, os.fspath(path)) from error


def fsync_tree(directory: Path) -> None:
    """Flush every file under ``directory`` to disk."""
    for child in Path(directory).rglob("*"):
        if child.is_file() and not child.is_symlink():
            with open(child, "rb") as handle:
                fsync_file(handle, child)


@contextlib.contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """Yield a temporary directory to fill; on success it becomes ``path``.

    ``path`` must not exist yet, or be an empty directory: nothing a user made
    is ever replaced (a non-empty ``path`` makes the rename fail). A failure
    leaves no temporary, and is raised as :func:`write_failure` gives it (naming
    the file that failed, or else ``path``).
    """
    path = Path(path)
    with naming_write_failures(path):
        temp = make_temporary_directory(path.parent, path.name)
        _make_readable(temp, 0o777)
        held = lock(temp)
        try:
            yield temp
            fsync_tree(temp)
            os.rename(temp, path)
            fsync_directory(path.parent)
        finally:
            if temp.exists():
                remove_path(temp)
            unlock(held)
