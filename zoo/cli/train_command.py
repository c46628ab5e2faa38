"""``zoo train ARCH``: configure a run from defaults, a TOML file and overrides, then train it."""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zoo.api import train
from zoo.api.run import Run
from zoo.cli.common import registry_from
from zoo.config.run import TRAIN_SHORTCUTS
from zoo.config.training import TrainConfig
from zoo.config.values import field_comments, parse_override
from zoo.errors import ZooError
from zoo.runs.pretrained import locate_run
from zoo.training.interruption import TrainingInterrupted, interrupt_on_sigterm

if typing.TYPE_CHECKING:
    from zoo.training.loop import TrainingResult

#: What ``--resume`` may change; everything else is fixed by the run.
RESUMABLE = ("steps", "device", "threads")


def _refuse_fixed_settings(fixed: dict[str, Any]) -> None:
    """``--resume`` continues a run with its own settings: name any other option given."""
    given = [f"--{name.replace('_', '-')}" for name, value in fixed.items() if value]
    if given:
        raise ZooError(f"--resume continues a run with its own settings; drop {', '.join(given)} "
                       "(only --steps, --device and --threads may change)")


def _shortcut_option(name: str, annotation: Any, comment: str
                     ) -> tuple[list[str], dict[str, Any]]:
    """``--steps`` for ``train.steps``: its type, and its help, from the TrainConfig field."""
    help_text = f"{comment[:1].upper()}{comment[1:]} (train.{name})."
    declaration = f"--{name.replace('_', '-')}"
    if annotation is bool:
        return [declaration], {"is_flag": True, "default": None, "help": help_text}
    if typing.get_origin(annotation) is list:  # --logger NAME, repeatable
        return [f"--{name.removesuffix('s')}", name], {"multiple": True, "metavar": "NAME",
                                                        "help": help_text}
    if annotation == int | None:  # --steps: a number, or not given
        annotation = int
    if annotation in (int, float):
        return [declaration], {"type": annotation, "help": help_text}
    if name == "init_from":
        return [declaration], {"type": click.Path(path_type=Path), "help": help_text}
    return [declaration], {"help": help_text}


def shortcut_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add an option for each of :data:`TRAIN_SHORTCUTS`, made from its TrainConfig field."""
    hints = typing.get_type_hints(TrainConfig)
    comments = field_comments(TrainConfig)
    for name in reversed(TRAIN_SHORTCUTS):  # each option goes above those added before it
        declarations, settings = _shortcut_option(name, hints[name], comments[name])
        command = click.option(*declarations, **settings)(command)
    return command


@click.command("train")
@click.argument("architecture")
@click.option("--dataset",
              help="Dataset (default: tinyshakespeare); see `zoo list --kind dataset`.")
@click.option("--tokenizer", help="Tokenizer name (default: char).")
@click.option("--data", multiple=True, metavar="PATH",
              help="Train on local UTF-8 file(s) with the text dataset; repeatable.")
@click.option("--val-data", multiple=True, metavar="PATH",
              help="Validate on these file(s) (dataset.val_path); all of --data then trains; "
                   "repeatable.")
@click.option("--test-data", multiple=True, metavar="PATH",
              help="Keep these file(s) as the test split for zoo eval --split test "
                   "(dataset.test_path); repeatable.")
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              help="TOML file with [model], [tokenizer], [dataset] and [train] tables.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override one config value, e.g. --set model.hidden=512; repeatable.")
@shortcut_options
@click.option("--resume", "resume_dir", type=click.Path(path_type=Path),
              help="Continue the run in this directory from its last checkpoint.")
@click.option("--out", type=click.Path(path_type=Path),
              help="Run directory to create (default: runs/ARCH-TIMESTAMP).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.pass_context
def train_command(ctx: click.Context, architecture: str, dataset: str | None,
                  tokenizer: str | None, data: tuple[str, ...], val_data: tuple[str, ...],
                  test_data: tuple[str, ...], config_file: Path | None,
                  overrides: tuple[str, ...], out: Path | None, progress: bool,
                  resume_dir: Path | None, **shortcuts: Any) -> None:
    """Train ARCHITECTURE (e.g. gru-tied) and write a run directory.

    Settings apply in order: defaults, --config, shortcuts, --set. With
    --resume RUN the run's own settings are used; only --steps, --device and --threads
    may change.
    """
    shortcuts["loggers"] = list(shortcuts["loggers"]) or None  # given, or not at all
    registry = registry_from(ctx)
    log = lambda text: click.echo(text, err=True)  # noqa: E731
    try:
        with interrupt_on_sigterm():  # SIGTERM (timeout, docker stop, Slurm) is Ctrl-C
            if resume_dir is not None:
                _refuse_fixed_settings({
                    "dataset": dataset, "tokenizer": tokenizer, "data": data,
                    "val_data": val_data, "test_data": test_data, "config": config_file,
                    "set": overrides, "out": out,
                    **{k: v is not None for k, v in shortcuts.items() if k not in RESUMABLE}})
                location = locate_run(registry, resume_dir)
                run = Run(location.directory, registry, pretrained=location.pretrained).resume(
                    shortcuts["steps"], device=shortcuts["device"], threads=shortcuts["threads"],
                    architecture=architecture,
                    progress=progress, log=log)
            else:
                settings: dict[str, Any] = {f"{section}.{key}": value
                            for section, key, value in map(parse_override, overrides)}
                run = train(architecture, data=data, val_data=val_data, test_data=test_data,
                            dataset=dataset, tokenizer=tokenizer, config=config_file, out=out,
                            progress=progress, registry=registry, log=log, **shortcuts,
                            **settings)
    except TrainingInterrupted as interrupted:
        click.echo(f"\n{interrupted}", err=True)
        ctx.exit(130)
    except KeyboardInterrupt:  # before training started: nothing was written
        click.echo("\ninterrupted before training started; nothing was written", err=True)
        ctx.exit(130)
    from zoo.training.distributed import DistributedContext  # torch: training has run

    result = run.training
    if result is not None and DistributedContext.from_environment().is_main:
        evaluation = result.final_eval
        click.echo(f"done: {result.steps:,} steps in {result.seconds:.0f}s"
                   f"{_what_ended(result)} "
                   f"({result.tokens_per_second:,.0f} tokens/s); val loss "
                   f"{evaluation['loss']:.4f}, bits/char {evaluation['bits_per_char']:.3f}\n"
                   f"sample it: zoo sample {run.directory}")


def _what_ended(result: TrainingResult) -> str:
    """``, the 120 s budget ended it`` or ``, its 5,000 steps ended it``: said of a run with
    a time budget, which either could end; nothing for a run that only steps end."""
    if not result.budget_s or result.ended_by is None:
        return ""
    if result.ended_by == "budget":
        return f", the {result.budget_s:g} s budget ended it"
    return f", its {result.steps:,} steps ended it"
