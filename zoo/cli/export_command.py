"""``zoo export RUN --onnx``: turn a trained run into a deployable export directory.

The core knows exporters only through the registry: ``--onnx`` picks the
exporter named ``onnx`` (built in, from ``zoo_exports``); ``--exporter NAME``
picks any other.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from zoo.cli.common import registry_from
from zoo.errors import ZooError


def plan_export_directory(out: Path | None, run: Path, exporter: str) -> Path:
    """Where the export goes: ``--out``, else ``RUN/EXPORTER`` (``runs/NAME/onnx``).

    The default sits inside the run it came from, so exports never land in a
    source checkout (``exports/`` there is zoo's own package) and travel with
    their run. An existing non-empty directory is never reused.
    """
    path = out or run / exporter
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ZooError(f"export directory {str(path)!r} already exists and is not empty; "
                       "choose another --out or remove it")
    return path


@click.command("export")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--onnx", "use_onnx", is_flag=True, help="Export the one-token step to ONNX.")
@click.option("--exporter", help="Another registered exporter (see `zoo list --kind exporter`).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Export directory to create (default: RUN/EXPORTER, e.g. RUN/onnx).")
@click.option("--opset", type=int, help="ONNX opset (export.opset, default 17).")
@click.option("--quantize", type=click.Choice(["int8"]),
              help="onnxruntime dynamic int8 quantization of the weights.")
@click.option("--set", "overrides", multiple=True, metavar="export.KEY=VALUE",
              help="Override one exporter option; repeatable.")
@click.pass_context
def export_command(ctx: click.Context, run: Path, use_onnx: bool, exporter: str | None,
                   out: Path | None, opset: int | None, quantize: str | None,
                   overrides: tuple[str, ...]) -> None:
    """Export the trained RUN (e.g. `zoo export runs/NAME --onnx`)."""
    from zoo.config import apply_values
    from zoo.runs import load_run

    if use_onnx == bool(exporter):
        raise ZooError("choose one exporter: --onnx, or --exporter NAME")
    registry = registry_from(ctx)
    component = registry.get("exporter", "onnx" if use_onnx else str(exporter))
    values: dict[str, object] = {}
    for text in overrides:
        target, _, value = text.partition("=")
        section, _, key = target.partition(".")
        if section != "export" or not key or not _:
            raise ZooError(f"--set for export expects export.KEY=VALUE, got {text!r}")
        values[key] = value
    if opset is not None:
        values["opset"] = opset
    if quantize is not None:
        values["quantize"] = quantize
    config = apply_values(component.default_config(), values, "export",
                          f"exporter {component.name!r}")
    out_dir = plan_export_directory(out, run, component.name)
    loaded = load_run(registry, run)
    started = time.perf_counter()
    component.load_factory()(config).export(
        loaded, out_dir, log=lambda text: click.echo(text, err=True))
    click.echo(f"exported {loaded.config.model.name} (step {loaded.step}) to {out_dir} in "
               f"{time.perf_counter() - started:.1f}s\n"
               f"sample it: zoo sample --onnx {out_dir}")
