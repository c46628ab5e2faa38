"""``zoo data stats DATASET``: a corpus's size, vocabulary and token frequencies."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zoo.cli.common import registry_from
from zoo.cli.output_files import save_figure
from zoo.config.values import parse_overrides
from zoo.data.stats import corpus_stats


@click.group("data")
def data_command() -> None:
    """Look at a dataset before training on it."""


@data_command.command("stats")
@click.argument("dataset")
@click.option("--tokenizer", default="char", show_default=True, help="Tokenizer to count with.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
              help="A dataset.* or tokenizer.* setting, as for zoo train (repeatable).")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many of the commonest tokens to list.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path),
              help="Also draw the token frequency histogram to this PNG/SVG/PDF file.")
@click.option("--force", is_flag=True, help="Overwrite an existing --plot file.")
@click.option("--json", "as_json", is_flag=True, help="Print every number as JSON.")
@click.pass_context
def stats_command(ctx: click.Context, dataset: str, tokenizer: str, overrides: tuple[str, ...],
                  top: int, plot_path: Path | None, force: bool, as_json: bool) -> None:
    """Size, vocabulary, commonest tokens and tokens per character of DATASET."""
    from zoo.analysis.plots import frequency_histogram  # matplotlib: only when a plot is drawn

    values = parse_overrides(overrides, ("dataset", "tokenizer"))
    stats = corpus_stats(registry_from(ctx), dataset, tokenizer, values)
    if plot_path is not None:
        save_figure(frequency_histogram(stats), plot_path, force=force)
    if as_json:
        click.echo(json.dumps(stats.to_dict(), indent=2))
        return
    click.echo(f"{dataset} through {tokenizer}: vocabulary {stats.vocab_size:,}, "
               f"{stats.used:,} of them in the train split")
    for split, numbers in stats.splits.items():
        click.echo(f"  {split:<6} {numbers.documents:>9,} documents {numbers.characters:>12,} "
                   f"characters {numbers.tokens:>12,} tokens  "
                   f"{numbers.tokens_per_char:.3f} tokens/char")
    total = sum(count for _, count in stats.frequencies)
    click.echo(f"commonest tokens in the train split (of {total:,}):")
    for label, count in stats.frequencies[:top]:
        click.echo(f"  {label!s:<16} {count:>12,}  {count / total:6.2%}")
    if plot_path is not None:
        click.echo(f"histogram written to {plot_path}")
