"""What every command shares: the registry, and turning user mistakes into exit code 2."""

from __future__ import annotations

from typing import Any

import click

from zoo.api import default_registry as get_registry
from zoo.errors import ZooError
from zoo.registry import Registry


def registry_from(ctx: click.Context) -> Registry:
    """The registry passed to the CLI (tests pass their own), else the installed one."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Registry) else get_registry()


class ZooGroup(click.Group):
    """A click group that prints a user's mistake as one line and exits with code 2.

    Both zoo's own :class:`ZooError` and click's usage errors (an unknown
    option, a bad choice) become ``error: ...``, the latter with where to
    find help instead of click's four-line usage block.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZooError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)
        except click.UsageError as error:
            where = error.ctx.command_path if error.ctx else ctx.command_path
            message = error.format_message().rstrip(".")
            click.echo(f"error: {message}; see '{where} --help'", err=True)
            ctx.exit(2)
