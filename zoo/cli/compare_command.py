"""``zoo compare RUN...``: one table of several runs, best first, and their loss curves."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zoo.api import compare
from zoo.cli.common import registry_from
from zoo.cli.output_files import save_figure
from zoo.errors import ZooError


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--plot", "plot_path", type=click.Path(path_type=Path),
              help="Write the loss curves to this image file (.png, .svg, .pdf, ...).")
@click.option("--force", is_flag=True, help="Overwrite an existing --plot file.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.pass_context
def compare_command(ctx: click.Context, runs: tuple[Path, ...], plot_path: Path | None,
                    force: bool, device: str, as_json: bool, progress: bool) -> None:
    """Compare trained RUNS, best first: parameters, val loss, bits/char, training and
    sampling speed. Ranked by bits/char when the runs' tokenizers differ."""
    if plot_path is not None and plot_path.exists() and not force:  # before the slow part
        raise ZooError(f"--plot {str(plot_path)!r} already exists; "
                       "choose another file or add --force")
    comparison = compare(runs, device, progress=progress, registry=registry_from(ctx))
    if plot_path is not None:
        save_figure(comparison.plot(), plot_path, force=force)
    if as_json:
        click.echo(json.dumps(comparison.rows, indent=2))
        return
    click.echo(str(comparison))
    if plot_path is not None:
        click.echo(f"loss curves: {plot_path}")
