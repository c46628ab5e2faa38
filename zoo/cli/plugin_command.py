"""``zoo plugin new NAME``: scaffold a pip-installable plugin package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from zoo.cli.common import registry_from
from zoo.errors import ZooError
from zoo.registry.host import Registry
from zoo.registry.scaffold import KINDS, PluginNames, check_name, new_plugin


def _publish_into(registry: Registry, source: str, name: str) -> Callable[[Path, PluginNames],
                                                                            None]:
    """What fills a new pretrained package: the run ``source`` published as model ``name``."""
    from zoo.api import load
    from zoo.api.publishing import publish_run, write_index

    run = load(source, registry=registry)  # a damaged run is named before anything is written
    architecture = name.split("/")[0]
    if run.architecture != architecture:
        raise ZooError(f"{source!r} is a {run.architecture!r} run; name its model "
                       f"{run.architecture}/DATASET, not {name!r}")

    def fill(directory: Path, names: PluginNames) -> None:
        summary = (f"{run.architecture} trained {run.step:,} steps on "
                   f"{run.config.dataset.name} ({run.config.tokenizer.name} tokenizer)")
        entry = publish_run(run.directory, directory / names.package / "models" / name,
                            name=name, summary=summary, registry=registry,
                            log=lambda text: click.echo(text, err=True))
        write_index(directory / names.package / "models.json", {name: entry}, keep=False)

    return fill


@click.group("plugin")
def plugin_command() -> None:
    """Tools for plugin authors."""


@plugin_command.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(KINDS), default="architecture", show_default=True,
              help="What the plugin provides; pretrained: a trained model, made --from a run.")
@click.option("--from", "source", metavar="RUN",
              help="The trained run a pretrained package publishes (--kind pretrained).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Directory to create (default: ./zoo-NAME).")
@click.pass_context
def new_command(ctx: click.Context, name: str, kind: str, source: str | None,
                out: Path | None) -> None:
    """Write a new plugin package whose component is called NAME (e.g. tiny-gru), or for
    --kind pretrained whose model is called NAME (ARCHITECTURE/DATASET, e.g. gru-tied/mytext)."""
    registry = registry_from(ctx)
    check_name(name, kind)  # before the run is read: a bad name is the first thing said
    if (kind == "pretrained") != (source is not None):
        raise ZooError("--from RUN goes with --kind pretrained, which needs it: "
                       "zoo plugin new ARCH/DATASET --kind pretrained --from RUN")
    if kind == "pretrained":
        model = registry.pretrained.get(name)
        taken = model.provider if model is not None else None
    else:
        taken = registry.provider_of(kind, name)
    if taken is not None:  # installed, the two would clash and neither could be used
        raise ZooError(f"{kind} {name!r} is already provided by {taken}; a plugin of the same "
                       f"name would conflict with it once installed; choose another name")
    fill = None if source is None else _publish_into(registry, source, name)
    target, names = new_plugin(name, kind, out, fill)
    click.echo(
        f"wrote {target}/: the {kind} {name!r} in package {names.package}, "
        f"distribution {names.distribution}\n"
        f"next: cd {target} && pip install -e '.[test]' && pytest && zoo list {name}"
    )
