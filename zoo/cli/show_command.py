"""``zoo show RUN``: what a run is, and with ``--samples`` the text it made while training."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.api import load
from zoo.cli.common import registry_from


@click.command("show")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--samples", is_flag=True,
              help="Print the samples made while training (train.sample_every), by step.")
@click.pass_context
def show_command(ctx: click.Context, run: Path, samples: bool) -> None:
    """Describe the trained run in directory RUN; --samples prints what it wrote as it learned."""
    loaded = load(run, registry=registry_from(ctx))
    width = max(len(label) for label, _ in loaded.summary())
    for label, value in loaded.summary():
        click.echo(f"{label:<{width}}  {value}")
    if not samples:
        return
    records = loaded.samples
    if not records:
        click.echo("no samples were made while training; train with "
                   "--set train.sample_every=N to record some")
    for record in records:
        click.echo(f"--- step {record['step']} ---\n{record['prompt']}{record['text']}")
