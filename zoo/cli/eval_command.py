"""``zoo eval RUN``: held-out loss, perplexity, bits per character and accuracy of a run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zoo.api import load
from zoo.cli.common import registry_from


@click.command("eval")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--split", type=click.Choice(["val", "train", "test"]), default="val",
              show_default=True, help="test: only datasets that have one (wikitext-2).")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--block-size", type=click.IntRange(min=1), default=None,
              help="Score in windows of this many tokens, each from a fresh state "
                   "[default: the run's training block size]. Longer windows give each "
                   "token more context: compare losses scored in equal windows.")
@click.option("--device", default="cpu", show_default=True, help="auto, cpu, cuda or mps.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.pass_context
def eval_command(ctx: click.Context, run: Path, split: str, batch_size: int,
                 block_size: int | None, device: str, as_json: bool, progress: bool) -> None:
    """Evaluate RUN on every token of a split, in windows of its training block size (or
    --block-size), each scored from a fresh state."""
    loaded = load(run, device, registry=registry_from(ctx))
    result = loaded.evaluate(split, batch_size, block_size=block_size, progress=progress)
    result["run"] = str(run)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"{run} ({result['architecture']}, step {result['step']}, {split}, "
        f"{result['tokens']:,} tokens in windows of {result['block_size']})\n"
        f"  loss          {result['loss']:.4f} nats/token\n"
        f"  perplexity    {result['perplexity']:.3f}\n"
        f"  bits/char     {result['bits_per_char']:.4f}\n"
        f"  bits/byte     {result['bits_per_byte']:.4f}\n"
        f"  accuracy      {result['accuracy']:.4f}"
        + (f"\n  <unk>         {result['unknown_rate']:.2%} of the tokens (they flatter the loss)"
           if result.get("unknown_rate") else "")
    )
