"""``zoo plugin new NAME``: scaffold a pip-installable plugin package."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("plugin")
def plugin_command() -> None:
    """Tools for plugin authors."""


@plugin_command.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(["architecture", "tokenizer", "dataset"]),
              default="architecture", show_default=True, help="What the plugin provides.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Directory to create (default: ./zoo-NAME).")
def new_command(name: str, kind: str, out: Path | None) -> None:
    """Write a new plugin package whose component is called NAME (e.g. tiny-gru)."""
    from zoo.scaffold import new_plugin

    target, names = new_plugin(name, kind, out)
    click.echo(
        f"wrote {target}/: the {kind} {name!r} in package {names.package}, "
        f"distribution {names.distribution}\n"
        f"next: cd {target} && pip install -e '.[test]' && pytest && zoo list {name}"
    )
