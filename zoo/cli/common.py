"""What every command shares: the registry, and the one boundary where failures become lines.

A failure that is the user's or the environment's (a :class:`ZooError`, a
click usage error, an :class:`OSError` such as a full disk or a read-only
directory, a diverging loss) is printed as one line, ``error: ...``, naming
the file or value and the way out, and the command exits with code 2. Any
other exception is a bug in zoo and keeps its traceback; ``ZOO_DEBUG=1``
prints the traceback of every failure.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from typing import Any

import click

from zoo.errors import ZooError
from zoo.files.atomic import final_path
from zoo.registry.host import Registry
from zoo.registry.host import default_registry as get_registry

#: errno -> what the user can do about it.
_OS_ADVICE = {
    errno.ENOSPC: "free some space and run the command again",
    errno.EDQUOT: "free some space within your quota and run the command again",
    errno.EFBIG: "it grew past your file-size limit (ulimit -f) or what the file system "
                 "allows; raise the limit or write somewhere else",
    errno.EROFS: "make it writable, or write somewhere else (--out)",
    errno.EACCES: "check its permissions, or write somewhere else (--out)",
    errno.EPERM: "check its permissions, or write somewhere else (--out)",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a directory; check the path",
    errno.EISDIR: "it is a directory; give a file",
    errno.EEXIST: "remove it or choose another name",
    errno.EIO: "the device reported an I/O error; check the disk",
}


def registry_from(ctx: click.Context) -> Registry:
    """The registry passed to the CLI (tests pass their own), else the installed one."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Registry) else get_registry()


def debugging() -> bool:
    """Whether ``ZOO_DEBUG`` asks for the traceback of every failure."""
    return os.environ.get("ZOO_DEBUG", "").strip().lower() not in {"", "0", "false", "no", "off"}


def describe_os_error(error: OSError) -> str:
    """One line for an operating-system failure: what, on which path, and what to do."""
    reason = error.strerror or str(error) or type(error).__name__
    paths = [final_path(os.fsdecode(p)) for p in (error.filename, error.filename2)
             if p not in (None, "")]
    where = " -> ".join(repr(p) for p in paths)
    advice = _OS_ADVICE.get(error.errno or -1, "check the path and run the command again")
    subject = f"{where}: {reason}" if where else reason
    return f"{subject[0].lower()}{subject[1:]}; {advice}" if subject else advice


def one_line(text: str) -> str:
    """``text`` folded onto one line, so that every error is exactly one line."""
    return " ".join(str(text).split())


class ZooGroup(click.Group):
    """A click group that prints a user's or the environment's failure as one line, exit code 2.

    zoo's own :class:`ZooError`, click's usage errors (an unknown option, a bad
    choice, with where to find help instead of click's usage block), an
    :class:`OSError` (full disk, read-only or missing path) and a
    :class:`FloatingPointError` (a diverging loss) become ``error: ...``.
    Everything else propagates with its traceback, as a bug should.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZooError as error:
            self._fail(ctx, str(error))
        except click.UsageError as error:
            where = error.ctx.command_path if error.ctx else ctx.command_path
            message = error.format_message().rstrip(".")
            self._fail(ctx, f"{message}; see '{where} --help'")
        except OSError as error:
            self._fail(ctx, describe_os_error(error))
        except FloatingPointError as error:
            self._fail(ctx, str(error) or "a value became NaN or infinite; lower --lr")

    @staticmethod
    def _fail(ctx: click.Context, message: str) -> None:
        if debugging():
            traceback.print_exc(file=sys.stderr)
        click.echo(f"error: {one_line(message)}", err=True)
        ctx.exit(2)
