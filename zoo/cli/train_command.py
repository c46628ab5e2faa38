"""``zoo train ARCH``: configure a run from defaults, a TOML file and overrides, then train it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zoo.cli.common import registry_from
from zoo.errors import ZooError

# CLI shortcut option -> the config key it sets.
SHORTCUTS = {
    "steps": "train.steps",
    "batch_size": "train.batch_size",
    "block_size": "train.block_size",
    "lr": "train.lr",
    "device": "train.device",
    "seed": "train.seed",
}


def config_layers(
    architecture: str,
    dataset: str | None,
    tokenizer: str | None,
    data: tuple[str, ...],
    config_file: Path | None,
) -> dict[str, dict[str, Any]]:
    """TOML-shaped sections from the config file and the component options (options win)."""
    from zoo.config import SECTIONS, read_toml

    layers: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    if config_file is not None:
        for section, values in read_toml(config_file).items():
            layers[section].update(values)
    layers["model"]["name"] = architecture
    if data:
        if dataset not in (None, "text"):
            raise ZooError(f"--data reads local files with the text dataset, not {dataset!r}")
        dataset = "text"
        layers["dataset"] = {"path": list(data)}
    if dataset is not None:
        if layers["dataset"].get("name", dataset) != dataset:
            layers["dataset"] = {k: v for k, v in layers["dataset"].items() if k == "path"}
        layers["dataset"]["name"] = dataset
    if tokenizer is not None:
        if layers["tokenizer"].get("name", tokenizer) != tokenizer:
            layers["tokenizer"] = {}
        layers["tokenizer"]["name"] = tokenizer
    return layers


@click.command("train")
@click.argument("architecture")
@click.option("--dataset", help="Dataset (default: shakespeare); see `zoo list --kind dataset`.")
@click.option("--tokenizer", help="Tokenizer name (default: char).")
@click.option("--data", multiple=True, metavar="PATH",
              help="Train on local UTF-8 file(s) with the text dataset; repeatable.")
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              help="TOML file with [model], [tokenizer], [dataset] and [train] tables.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override one config value, e.g. --set model.hidden=512; repeatable.")
@click.option("--steps", type=int, help="Optimizer steps (train.steps).")
@click.option("--batch-size", type=int, help="Sequences per step (train.batch_size).")
@click.option("--block-size", type=int, help="Tokens per training window (train.block_size).")
@click.option("--lr", type=float, help="Peak learning rate (train.lr).")
@click.option("--device", help="auto, cpu, cuda, cuda:N or mps (train.device).")
@click.option("--seed", type=int, help="Random seed (train.seed).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Run directory to create (default: runs/ARCH-TIMESTAMP).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.pass_context
def train_command(
    ctx: click.Context,
    architecture: str,
    dataset: str | None,
    tokenizer: str | None,
    data: tuple[str, ...],
    config_file: Path | None,
    overrides: tuple[str, ...],
    out: Path | None,
    progress: bool,
    **shortcuts: Any,
) -> None:
    """Train ARCHITECTURE (e.g. gru-tied) and write a run directory.

    Settings apply in order: defaults, --config, shortcuts, --set.
    """
    from zoo.config import build_run_config
    from zoo.runs import plan_run_directory

    registry = registry_from(ctx)
    shortcut_overrides = [
        f"{SHORTCUTS[name]}={value}" for name, value in shortcuts.items() if value is not None
    ]
    layers = config_layers(architecture, dataset, tokenizer, data, config_file)
    run_config = build_run_config(registry, layers, [*shortcut_overrides, *overrides])
    run_dir = plan_run_directory(out, run_config.model.name)

    from zoo.training import TrainingInterrupted, train_run

    try:
        result = train_run(registry, run_config, run_dir, progress=progress,
                           log=lambda text: click.echo(text, err=True))
    except TrainingInterrupted as interrupted:
        click.echo(f"\n{interrupted}", err=True)
        ctx.exit(130)
    evaluation = result.final_eval
    click.echo(
        f"done: {result.steps} steps in {result.seconds:.0f}s "
        f"({result.tokens_per_second:,.0f} tokens/s); val loss {evaluation['loss']:.4f}, "
        f"bits/char {evaluation['bits_per_char']:.3f}\n"
        f"sample it: zoo sample {run_dir}"
    )
