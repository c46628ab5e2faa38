"""``zoo train ARCH``: configure a run from defaults, a TOML file and overrides, then train it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zoo.cli.common import registry_from
from zoo.errors import ZooError

#: What ``--resume`` may change; everything else is fixed by the run.
RESUMABLE = ("steps", "device")


def _refuse_fixed_settings(fixed: dict[str, Any]) -> None:
    """``--resume`` continues a run with its own settings: name any other option given."""
    given = [f"--{name.replace('_', '-')}" for name, value in fixed.items() if value]
    if given:
        raise ZooError(f"--resume continues a run with its own settings; drop {', '.join(given)} "
                       "(only --steps and --device may change)")


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
@click.option("--sample-every", type=int, metavar="N",
              help="Write a short sample every N steps (train.sample_every).")
@click.option("--logger", "loggers", multiple=True, metavar="NAME",
              help="Also send metrics and samples to this logger (zoo list --kind logger; "
                   "repeatable; train.loggers).")
@click.option("--init-from", type=click.Path(path_type=Path),
              help="Fine-tune: start from this run's weights and tokenizer (train.init_from).")
@click.option("--resume", "resume_dir", type=click.Path(path_type=Path),
              help="Continue the run in this directory from its last checkpoint.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Run directory to create (default: runs/ARCH-TIMESTAMP).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.pass_context
def train_command(ctx: click.Context, architecture: str, dataset: str | None,
                  tokenizer: str | None, data: tuple[str, ...], config_file: Path | None,
                  overrides: tuple[str, ...], out: Path | None, progress: bool,
                  resume_dir: Path | None, **shortcuts: Any) -> None:
    """Train ARCHITECTURE (e.g. gru-tied) and write a run directory.

    Settings apply in order: defaults, --config, shortcuts, --set. With
    --resume RUN the run's own settings are used; only --steps and --device
    may change.
    """
    from zoo.api import train
    from zoo.api.run import Run
    from zoo.config.values import parse_override
    from zoo.training.interruption import TrainingInterrupted, interrupt_on_sigterm

    shortcuts["loggers"] = list(shortcuts["loggers"]) or None  # given, or not at all
    registry = registry_from(ctx)
    log = lambda text: click.echo(text, err=True)  # noqa: E731
    try:
        with interrupt_on_sigterm():  # SIGTERM (timeout, docker stop, Slurm) is Ctrl-C
            if resume_dir is not None:
                _refuse_fixed_settings({
                    "dataset": dataset, "tokenizer": tokenizer, "data": data, "config": config_file,
                    "set": overrides, "out": out,
                    **{k: v is not None for k, v in shortcuts.items() if k not in RESUMABLE}})
                run = Run(resume_dir, registry).resume(
                    shortcuts["steps"], device=shortcuts["device"], architecture=architecture,
                    progress=progress, log=log)
            else:
                settings: dict[str, Any] = {f"{section}.{key}": value
                            for section, key, value in map(parse_override, overrides)}
                run = train(architecture, data=data, dataset=dataset, tokenizer=tokenizer,
                            config=config_file, out=out, progress=progress, registry=registry,
                            log=log, **shortcuts, **settings)
    except TrainingInterrupted as interrupted:
        click.echo(f"\n{interrupted}", err=True)
        ctx.exit(130)
    except KeyboardInterrupt:  # before training started: nothing was written
        click.echo("\ninterrupted before training started; nothing was written", err=True)
        ctx.exit(130)
    from zoo.training.distributed import DistributedContext

    result = run.training
    if result is not None and DistributedContext.from_environment().is_main:
        evaluation = result.final_eval
        click.echo(f"done: {result.steps} steps in {result.seconds:.0f}s "
                   f"({result.tokens_per_second:,.0f} tokens/s); val loss "
                   f"{evaluation['loss']:.4f}, bits/char {evaluation['bits_per_char']:.3f}\n"
                   f"sample it: zoo sample {run.directory}")
