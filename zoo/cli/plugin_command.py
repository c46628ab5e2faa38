"""``zoo plugin new NAME``: scaffold a pip-installable plugin package."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.cli.common import registry_from
from zoo.errors import ZooError
from zoo.registry.scaffold import new_plugin


@click.group("plugin")
def plugin_command() -> None:
    """Tools for plugin authors."""


@plugin_command.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(["architecture", "tokenizer", "dataset"]),
              default="architecture", show_default=True, help="What the plugin provides.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Directory to create (default: ./zoo-NAME).")
@click.pass_context
def new_command(ctx: click.Context, name: str, kind: str, out: Path | None) -> None:
    """Write a new plugin package whose component is called NAME (e.g. tiny-gru)."""
    taken = registry_from(ctx).provider_of(kind, name)
    if taken is not None:  # installed, the two would clash and neither could be used
        raise ZooError(f"{kind} {name!r} is already provided by {taken}; a plugin of the same "
                       f"name would conflict with it once installed; choose another name")

    target, names = new_plugin(name, kind, out)
    click.echo(
        f"wrote {target}/: the {kind} {name!r} in package {names.package}, "
        f"distribution {names.distribution}\n"
        f"next: cd {target} && pip install -e '.[test]' && pytest && zoo list {name}"
    )
