"""The operating system's failure behind a failed write, whatever library reports it.

Python's own writes raise :class:`OSError` with an errno. The libraries zoo
writes through report the same failure in their own ways:

- safetensors (Rust): ``SafetensorError("Error while serializing: I/O error:
  No space left on device (os error 28)")``; Hugging Face tokenizers (Rust)
  end their message the same way;
- numpy's ``tofile`` (inside ``np.save``): ``OSError("4096 requested and 496
  written")``, with no errno at all;
- a library that wraps an :class:`OSError` keeps it as the ``__cause__``.

:func:`os_error_behind` is the one place that recognizes them all. The atomic
writes (:mod:`zoo.files.atomic`) pass every failure of a write through it, so
a full disk at a checkpoint, an export, the token cache or any run file is an
:class:`OSError` with its errno, naming the file as the user knows it, which
the CLI prints as its one line (``'runs/x/model.safetensors': No space left
on device; free some space ...``).
"""

from __future__ import annotations

import errno
import os
import re
import sys
from pathlib import Path

from zoo.errors import ZooError

#: The errnos of a disk (or a quota, or a file-size limit) that takes no more bytes.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})

#: Rust's ``std::io::Error`` as text: "No space left on device (os error 28)".
_RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")
#: Python's ``OSError`` quoted inside another message: "[Errno 28] No space left on device".
_PYTHON_OS_ERROR = re.compile(r"\[Errno (\d+)\]")
#: numpy's ``tofile`` when ``fwrite`` stops short; the C errno is lost on the way.
_SHORT_WRITE = re.compile(r"^(\d+) requested and (\d+) written$")


def os_error_behind(error: BaseException, where: Path | None = None) -> OSError | None:
    """The :class:`OSError` that ``error`` reports, or None when it reports none.

    ``error`` itself when it is an OSError with an errno; otherwise a new
    OSError(errno, strerror), without a file name, for the errno found in the
    library's message or in an explicit cause. A ZooError is the user's and is
    never one. ``where`` (the path being written) helps tell what stopped a
    short write that gives no errno (:func:`short_write_errno`).
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and not isinstance(current, ZooError):
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno:
            return current if current is error else OSError(
                current.errno, current.strerror or os.strerror(current.errno))
        code = _errno_in_message(current, where)
        if code is not None:
            return OSError(code, os.strerror(code))
        current = current.__cause__  # only an explicit cause: an implicit context is unrelated
    return None


def _errno_in_message(error: BaseException, where: Path | None) -> int | None:
    """The errno a library wrote into ``error``'s message, or None."""
    message = str(error)
    for pattern in (_RUST_OS_ERROR, _PYTHON_OS_ERROR):
        found = pattern.search(message)
        if found:
            return int(found[1])
    short = _SHORT_WRITE.match(message.strip())
    if isinstance(error, OSError) and short:
        return short_write_errno(where, int(short[1]) - int(short[2]))
    return None


def short_write_errno(where: Path | None, missing: int) -> int:
    """What stopped a write that says only that ``missing`` bytes were not written.

    A file-size limit (``ulimit -f``, EFBIG) when one is set and the disk
    holding ``where`` still has room for them; otherwise a full disk (ENOSPC),
    the cause of nearly every short write to a regular file.
    """
    if sys.platform == "win32":
        return errno.ENOSPC
    import resource  # POSIX only

    limited = resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY
    return errno.EFBIG if limited and free_bytes(where) >= missing else errno.ENOSPC


def free_bytes(where: Path | None) -> int:
    """Bytes an unprivileged writer may still use on the disk holding ``where`` (0: unknown)."""
    path = Path(where) if where is not None else Path.cwd()
    for candidate in (path, *path.parents):
        try:
            stats = os.statvfs(candidate)
        except OSError:
            continue
        return stats.f_bavail * stats.f_frsize
    return 0
