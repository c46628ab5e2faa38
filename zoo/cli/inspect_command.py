"""``zoo inspect RUN|EXPORT --text TEXT``: what a model does on a text, drawn against its
tokens."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zoo.cli.output_files import save_figure, save_text
from zoo.cli.sources import DEVICE_HELP, load_source


@click.command("inspect")
@click.argument("run", metavar="RUN|EXPORT", type=click.Path(path_type=Path))
@click.option("--text", default="ROMEO:\nBut soft, what light", show_default=True,
              help="The text the model reads (from its initial state, as a new document).")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path),
              help="Draw every view as heatmaps to this PNG/SVG/PDF file.")
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Write the numbers to this JSON file.")
@click.option("--units", type=click.IntRange(min=1), default=32, show_default=True,
              help="Units shown per layer in the heatmaps of gates and hidden states.")
@click.option("--force", is_flag=True, help="Overwrite existing --plot and --json files.")
@click.option("--device", help=DEVICE_HELP)
@click.pass_context
def inspect_command(ctx: click.Context, run: Path, text: str, plot_path: Path | None,
                    json_path: Path | None, units: int, force: bool, device: str | None) -> None:
    """Show what the trained run in RUN computes while reading --text: LSTM and GRU gates,
    RNN hidden states, transformer attention, the bigram's table, and each token's
    surprisal (nats). An export (a directory with manifest.json) shows the surprisal only:
    its step graph gives logits, nothing inside."""
    inside = load_source(ctx, run, device).inspect(text)
    click.echo(f"{inside.architecture} reading {len(inside.tokens)} tokens:")
    for name, shape, low, mean, high in inside.summary():
        click.echo(f"  {name:<26} {' x '.join(map(str, shape)):<18} "
                   f"min {low:.3f}  mean {mean:.3f}  max {high:.3f}")
    if plot_path is not None:
        save_figure(inside.plot(units), plot_path, force=force)
        click.echo(f"drawn to {plot_path}")
    if json_path is not None:
        save_text(json.dumps(inside.to_dict()), json_path, "--json", force=force)
        click.echo(f"numbers written to {json_path}")
