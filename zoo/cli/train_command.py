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
    "stateful": "train.stateful",
    "compile": "train.compile",
    "max_seconds": "train.max_seconds",
}
# What may change when a run is resumed; everything else is fixed by the run.
RESUMABLE = {"steps", "device"}


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


def resumed_config(registry: Any, run_dir: Path, architecture: str, overrides: list[str]) -> Any:
    """The config of the run in ``run_dir`` with ``overrides`` applied, saved back to it."""
    from zoo import runs
    from zoo.config import build_run_config

    raw = runs.read_config(run_dir)
    runs.check_components_installed(registry, raw)
    if raw["model"]["name"] != architecture:
        raise ZooError(
            f"run {str(run_dir)!r} trains {raw['model']['name']!r}, not {architecture!r}; "
            f"use zoo train {raw['model']['name']} --resume {run_dir}"
        )
    run_config = build_run_config(registry, raw, overrides)
    runs.write_config(run_dir, run_config, int(raw["vocab_size"]), registry=registry)
    return run_config


@click.command("train")
@click.argument("architecture")
@click.option("--dataset",
              help="Dataset (default: tinyshakespeare); see `zoo list --kind dataset`.")
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
@click.option("--stateful", is_flag=True, default=None,
              help="Carry recurrent state across batches of contiguous text (train.stateful).")
@click.option("--compile", is_flag=True, default=None, help="Use torch.compile (train.compile).")
@click.option("--max-seconds", type=float,
              help="Stop after this wall-clock time; the LR decay follows it (train.max_seconds).")
@click.option("--resume", "resume_dir", type=click.Path(path_type=Path),
              help="Continue the run in this directory from its last checkpoint.")
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
    resume_dir: Path | None,
    **shortcuts: Any,
) -> None:
    """Train ARCHITECTURE (e.g. gru-tied) and write a run directory.

    Settings apply in order: defaults, --config, shortcuts, --set. With
    --resume RUN the run's own settings are used; only --steps and --device
    may change.
    """
    from zoo.config import build_run_config
    from zoo.runs import plan_run_directory

    registry = registry_from(ctx)
    given = {name: value for name, value in shortcuts.items() if value is not None}
    shortcut_overrides = [f"{SHORTCUTS[name]}={value}" for name, value in given.items()]
    if resume_dir is not None:
        fixed = [name for name, value in [("--dataset", dataset), ("--tokenizer", tokenizer),
                 ("--data", data), ("--config", config_file), ("--set", overrides),
                 ("--out", out)] if value]
        fixed += ["--" + name.replace("_", "-") for name in given if name not in RESUMABLE]
        if fixed:
            raise ZooError(
                f"--resume continues a run with its own settings; drop {', '.join(fixed)} "
                "(only --steps and --device may change)"
            )
        run_config = resumed_config(registry, resume_dir, architecture, shortcut_overrides)
        run_dir = resume_dir
    else:
        layers = config_layers(architecture, dataset, tokenizer, data, config_file)
        run_config = build_run_config(registry, layers, [*shortcut_overrides, *overrides])
        run_dir = plan_run_directory(out, run_config.model.name)

    from zoo.training import TrainingInterrupted, train_run

    try:
        result = train_run(registry, run_config, run_dir, progress=progress,
                           resume=resume_dir is not None,
                           log=lambda text: click.echo(text, err=True))
    except TrainingInterrupted as interrupted:
        click.echo(f"\n{interrupted}", err=True)
        ctx.exit(130)
    from zoo.distributed import DistributedContext

    if not DistributedContext.from_environment().is_main:
        return
    evaluation = result.final_eval
    click.echo(
        f"done: {result.steps} steps in {result.seconds:.0f}s "
        f"({result.tokens_per_second:,.0f} tokens/s); val loss {evaluation['loss']:.4f}, "
        f"bits/char {evaluation['bits_per_char']:.3f}\n"
        f"sample it: zoo sample {run_dir}"
    )
