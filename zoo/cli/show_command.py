"""``zoo show RUN``: what a run is, its model card (``MODEL.md``) if it has one, and with
``--samples`` the text it made while training."""

from __future__ import annotations

import click

from zoo.api import load
from zoo.cli.common import registry_from


@click.command("show")
@click.argument("run")
@click.option("--samples", is_flag=True,
              help="Print the samples made while training (train.sample_every), by step.")
@click.pass_context
def show_command(ctx: click.Context, run: str, samples: bool) -> None:
    """Describe the trained RUN (a run directory or a pretrained name) and print its model card;
    --samples prints what it wrote as it learned."""
    loaded = load(run, registry=registry_from(ctx))
    width = max(len(label) for label, _ in loaded.summary())
    for label, value in loaded.summary():
        click.echo(f"{label:<{width}}  {value}")
    card = loaded.card
    if card is not None:
        click.echo(f"\n{card.rstrip()}")
    if not samples:
        return
    records = loaded.samples
    if not records:
        click.echo("no samples were made while training; train with "
                   "--set train.sample_every=N to record some")
    for record in records:
        click.echo(f"--- step {record['step']} ---\n{record['prompt']}{record['text']}")
