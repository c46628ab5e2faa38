"""``zoo export RUN --onnx``: turn a trained run into a deployable export directory.

The core knows exporters only through the registry, as datasette's
``publish`` knows its publishers: each registered exporter adds a flag named
after it (``--onnx``) and one option per field of its config dataclass
(``--opset``, ``--quantize``), with that field's comment as help. The core
CLI itself names no exporter and no exporter option.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import click

from zoo.api import load
from zoo.cli.common import registry_from
from zoo.config.values import field_comments, parse_overrides
from zoo.errors import ZooError
from zoo.registry.components import Component
from zoo.registry.host import Registry

FLAG_PREFIX = "exporter_"  # parameter names of the per-exporter flags: exporter_onnx
OPTION_PREFIX = "export_"  # parameter names of the exporter config options: export_opset


#: Names of export's own options; an exporter or field named like one is reached by
#: --exporter NAME or --set export.KEY=VALUE instead.
RESERVED = {"exporter", "out", "set", "help", "h"}


def _exporter_params(registry: Registry) -> list[click.Parameter]:
    """A flag per exporter and an option per exporter config field (shared names merged)."""
    flags: list[click.Parameter] = []
    fields: dict[str, list[tuple[Component, Any, str]]] = {}
    for component in registry.select("exporter"):
        if component.name not in RESERVED:
            flags.append(click.Option([f"--{component.name}", f"{FLAG_PREFIX}{component.name}"],
                                      is_flag=True,
                                      help=f"The {component.name} exporter: {component.summary}."))
        comments = field_comments(component.config)
        for field in dataclasses.fields(component.config):
            if field.name.replace("_", "-") in RESERVED:
                continue
            default = getattr(component.default_config(), field.name)
            fields.setdefault(field.name, []).append(
                (component, default, comments.get(field.name, "")))
    options: list[click.Parameter] = []
    for name, owners in fields.items():
        about = "; ".join(f"{c.name}: {comment} (default {default})".replace("(default )", "")
                          for c, default, comment in owners)
        options.append(click.Option([f"--{name.replace('_', '-')}", f"{OPTION_PREFIX}{name}"],
                                    metavar="VALUE", help=f"export.{name}, {about}"))
    return flags + options


class ExportCommand(click.Command):
    """``zoo export``, whose exporter flags and options come from the registered exporters."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        *own, help_option = params
        return [*own, *_exporter_params(registry_from(ctx)), help_option]


def _chosen_exporter(flags: dict[str, bool], exporter: str | None) -> str:
    chosen = [name for name, on in flags.items() if on] + ([exporter] if exporter else [])
    if len(chosen) != 1:
        names = ", ".join(f"--{name}" for name in flags) or "none installed"
        raise ZooError(f"choose one exporter: {names}, or --exporter NAME")
    return chosen[0]


@click.command("export", cls=ExportCommand)
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--exporter", help="A registered exporter by name (see `zoo list --kind exporter`).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Export directory to create (default: RUN/EXPORTER, e.g. RUN/onnx).")
@click.option("--set", "overrides", multiple=True, metavar="export.KEY=VALUE",
              help="Set one exporter option; repeatable.")
@click.pass_context
def export_command(ctx: click.Context, run: Path, exporter: str | None, out: Path | None,
                   overrides: tuple[str, ...], **exporter_options: Any) -> None:
    """Export the trained RUN (e.g. `zoo export runs/NAME --onnx`)."""
    flags = {k.removeprefix(FLAG_PREFIX): bool(v) for k, v in exporter_options.items()
             if k.startswith(FLAG_PREFIX)}  # {"onnx": True}
    name = _chosen_exporter(flags, exporter)
    registry = registry_from(ctx)
    fields = {f.name for f in dataclasses.fields(registry.get("exporter", name).config)}
    values: dict[str, Any] = dict(parse_overrides(overrides, ("export",))["export"])
    for key, value in exporter_options.items():
        option = key.removeprefix(OPTION_PREFIX)
        if key.startswith(OPTION_PREFIX) and value is not None:
            if option not in fields:
                raise ZooError(f"--{option.replace('_', '-')} is not an option of the {name!r} "
                               f"exporter; its options: {', '.join(sorted(fields)) or 'none'}")
            values[option] = value
    started = time.perf_counter()
    loaded = load(run, registry=registry)
    export = loaded.export(out, name, log=lambda text: click.echo(text, err=True), **values)
    click.echo(f"exported {loaded.architecture} (step {loaded.step}) to {export.directory} in "
               f"{time.perf_counter() - started:.1f}s\n"
               f"sample it: zoo sample --onnx {export.directory}")
