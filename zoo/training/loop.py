"""The one training loop: any registered architecture, tokenizer and dataset.

It reads top to bottom like nanoGPT's ``train.py``; each job it calls lives in
one module:

    data          zoo.data            the tokenizer, token streams and batch sampler
    model         zoo.registry.factory  the architecture's module, its parameter count
    optimizer     zoo.training.optimization    AdamW, linear warmup and cosine decay
    resume        zoo.training.resume          the last checkpoint's state, exactly restored
    one step      zoo.training.steps           batch to device, bf16 autocast, the loss
    checkpoints   zoo.training.checkpointing   evaluate, record, checkpoint
    reporting     zoo.training.progress        metrics.jsonl, a progress bar or progress lines
    distributed   zoo.training.distributed     PyTorch DDP under torchrun

Random windows by default; ``train.stateful`` carries recurrent state across
batches (truncated BPTT). Resumable exactly on CPU; optional ``torch.compile``.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from zoo.config.run import RunConfig
from zoo.config.training import TrainConfig
from zoo.data.batches import batch_sampler
from zoo.data.documents import PAD_TARGET, rows_of, unknown_note
from zoo.files.paths import (
    ExistingDirectory,
    StagedDirectory,
    UnlockedDirectory,
    stage_new_directory,
)
from zoo.models.devices import autocast_dtype, resolve_device, use_threads
from zoo.registry.factory import build_model, count_parameters
from zoo.registry.host import Registry
from zoo.runs.run_directory import write_run_files
from zoo.sampling.loop import prompt_ids
from zoo.sampling.torch_sampler import training_sample
from zoo.training.checkpointing import Checkpoints
from zoo.training.data import training_data
from zoo.training.distributed import DistributedContext
from zoo.training.fine_tuning import load_starting_weights, source_run
from zoo.training.interruption import TrainingInterrupted, interrupt_on_sigterm
from zoo.training.loggers import RunLoggers, build_loggers
from zoo.training.optimization import make_optimizer, scheduled_learning_rate, set_learning_rate
from zoo.training.progress import TrainingProgress
from zoo.training.resume import ResumePoint, restore_training_state
from zoo.training.steps import autocast, batch_loss, detach_state, to_device


def claim_run_directory(run_dir: Path, *, resume: bool, numbered: bool,
                        is_main: bool) -> StagedDirectory:
    """The locked run directory to write: ``run_dir`` itself to resume, else a staged sibling.

    Only rank 0 writes, so only rank 0 stages or locks anything.
    """
    if not is_main:
        return UnlockedDirectory(run_dir)
    if resume:
        return ExistingDirectory(run_dir, "run directory")
    return stage_new_directory(run_dir, "run directory", numbered=numbered)


@dataclass
class TrainingResult:
    """What a finished run reports."""

    run_dir: Path  # where the run is (a numbered run's name may carry a suffix)
    steps: int
    parameters: int
    final_eval: dict[str, float]
    tokens_per_second: float  # the median over the logged windows
    seconds: float  # wall time of this session of training
    model: Any = None  # the trained torch.nn.Module, as last checkpointed
    ended_by: str | None = None  # "steps" or "budget" (train.max_seconds); None: not known
    budget_s: float = 0.0  # the run's time budget (train.max_seconds); 0: none

    @classmethod
    def from_records(cls, run_dir: Path, records: list[dict[str, Any]],
                     parameters: int) -> TrainingResult | None:
        """The summary of a finished run read from its ``metrics.jsonl`` records: the last
        evaluation's step, numbers and elapsed time (every session of training), and the
        median tokens/s of its training records. None before its first evaluation."""
        evaluations = [r for r in records if r.get("split") == "val"]
        if not evaluations:
            return None
        last = evaluations[-1]
        speeds = [r["tokens_per_s"] for r in records
                  if r.get("split") == "train" and "tokens_per_s" in r]
        final_eval = {k: v for k, v in last.items() if k not in ("step", "split", "elapsed_s")}
        return cls(run_dir=run_dir, steps=int(last["step"]), parameters=parameters,
                   final_eval=final_eval,
                   tokens_per_second=statistics.median(speeds) if speeds else 0.0,
                   seconds=float(last.get("elapsed_s", 0.0)))


def train_run(
    registry: Registry,
    run_config: RunConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    numbered: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
    on_step: Callable[[int], None] | None = None,
) -> TrainingResult:
    """Train as ``run_config`` says into ``run_dir`` (a new run, or ``resume`` an existing one).

    ``progress`` shows a bar (or, with no terminal, periodic lines); ``log``
    receives the messages; ``on_step(step)`` is called after every optimizer
    step. Ctrl-C or SIGTERM raises :class:`TrainingInterrupted`; the last
    checkpoint stays. A new run is built in a staged sibling that takes the
    name ``run_dir`` at its first checkpoint (``numbered``: the first free of
    ``run_dir``, ``run_dir-2``, ...: see ``TrainingResult.run_dir``); the run
    is locked against a second writer while it trains.
    A resumed run takes ``run_config`` from :func:`zoo.training.resume.resumed_run_config`.

    The run ends at ``train.steps`` or when its time budget ``train.max_seconds``
    (every session together) is spent, whichever comes first; without steps the
    budget alone ends it (``TrainingResult.ended_by`` says which did).
    """
    train, run_dir = run_config.train, Path(run_dir)
    dist = DistributedContext.from_environment()
    device = dist.device(resolve_device(train.device))
    step_dtype = autocast_dtype(device, train.precision)  # None: float32
    threads_before = torch.get_num_threads()  # train.threads holds while training only
    with dist.joined(device), interrupt_on_sigterm():
        directory = claim_run_directory(run_dir, resume=resume, numbered=numbered,
                                        is_main=dist.is_main)
        start, step = ResumePoint(), 0
        report: TrainingProgress | None = None
        checkpoints: Checkpoints | None = None
        try:
            use_threads(train.threads)
            loggers = RunLoggers(build_loggers(registry, train.loggers) if dist.is_main else [],
                                 run_config.to_dict())  # an unknown name fails before any work
            torch.manual_seed(train.seed + dist.rank)
            # fine-tuning (train.init_from) starts from another run's tokenizer and weights
            source = (source_run(registry, train.init_from) if train.init_from and not resume
                      else None)
            tokenizer, streams = training_data(
                registry, run_config, run_dir, resume=resume,
                tokenizer=None if source is None else source.tokenizer)
            rows = rows_of(run_config.dataset.config)  # documents packed, or one a row
            sampler = batch_sampler(streams["train"], train, dist.rank, dist.world_size, rows)
            model = build_model(registry, run_config.model, tokenizer.vocab_size)
            if source is not None:
                load_starting_weights(model, source)
            model = model.to(device)
            if train.sample_every:  # a prompt the tokenizer cannot encode fails now, not later
                prompt_ids(tokenizer, train.sample_prompt)
            model.train()
            optimizer = make_optimizer(model, train, device)
            if resume:  # the last checkpoint's state; nothing in run_dir changes unless it loads
                start = restore_training_state(run_dir, model=model, optimizer=optimizer,
                                               sampler=sampler, device=device, train=train,
                                               is_main=dist.is_main)
            step_model = dist.wrap(model, device)  # the step runs through DDP; all else uses model
            if train.compile:
                step_model = torch.compile(step_model)
            parameters = count_parameters(model)
            if dist.is_main:  # a new run's files (staged), or the new config of a resumed one
                write_run_files(directory.path, run_config, tokenizer, registry=registry,
                                     resume=resume)
                log(f"{run_config.model.name}: {parameters / 1e6:.2f}M parameters, "
                    f"vocab {tokenizer.vocab_size}, {len(streams['train'].ids):,} train tokens"
                    + unknown_note(streams["train"], tokenizer) + ", "
                    f"device {device}" + (f" x {dist.world_size} ranks" if dist.enabled else "")
                    + (f", {threads_in_use()}" if device.type == "cpu" else "")
                    + (", bfloat16 autocast" if step_dtype is not None else "")
                    + f"; run in {directory.target}")
            report = TrainingProgress(directory, train, start_step=start.step,
                                      elapsed_before=start.elapsed_s, device=device,
                                      world_size=dist.world_size, is_main=dist.is_main,
                                      show=progress, log=log, window=start.log_window,
                                      loggers=loggers)
            checkpoints = Checkpoints(directory, model=model, optimizer=optimizer,
                                      sampler=sampler, val=streams["val"], train=train,
                                      device=device, distributed=dist, progress=report,
                                      start_step=start.step, rows=rows)
            carry, step, final_eval, ended_by = start.carry, start.step, {}, "steps"
            limit = train.step_limit  # None: the time budget alone ends the run
            budgeted, overtime = budget_left(train, start.elapsed_s), False
            for step in (itertools.count(start.step + 1) if limit is None
                         else range(start.step + 1, limit + 1)):
                seconds = report.elapsed()  # the run's training time, resumed sessions too
                # a time budget stops every rank together, after the same step (at least one)
                if (budgeted and step > start.step + 1
                        and dist.any(seconds >= train.max_seconds, device)):
                    # a budget spent while the last step's checkpoint was written left that
                    # checkpoint's record short of it: one step more, so that the run's last
                    # record says the budget is spent (and a resume without --steps is refused)
                    if checkpoints.step != step - 1 or overtime:
                        step, ended_by = step - 1, "budget"
                        break
                    overtime = True
                lr = set_learning_rate(optimizer, scheduled_learning_rate(train, step, seconds))
                x, y, reset = sampler.next_batch()
                inputs, targets = to_device((x, y), device)  # (B, T) each
                with autocast(device, step_dtype):
                    loss, _, new_state = batch_loss(step_model, inputs, targets,
                                                    None if reset else carry)
                loss.backward()
                if train.stateful:
                    carry = detach_state(new_state)  # truncated BPTT: keep values, drop history
                if train.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                report.count_step(loss, int((y != PAD_TARGET).sum()))
                if on_step is not None:
                    on_step(step)
                if step % train.log_interval == 0 or step == limit:
                    report.log_training(step, lr)
                if step % train.eval_interval == 0 or step == limit:
                    final_eval = checkpoints.evaluate_and_save(step, carry)
                if train.sample_every and step % train.sample_every == 0 and dist.is_main:
                    started = time.perf_counter()
                    text = training_sample(model, tokenizer, train.sample_prompt,
                                           train.sample_tokens, seed=train.seed + step)
                    report.log_sample(step, train.sample_prompt, text,
                                      time.perf_counter() - started)
            if checkpoints.step != step:  # the time budget stopped between evaluations
                final_eval = checkpoints.evaluate_and_save(step, carry)
        except KeyboardInterrupt:
            kept = checkpoints.kept_step() if checkpoints is not None else start.step
            raise TrainingInterrupted(directory.target, step, kept, resumed=resume) from None
        finally:
            if report is not None:
                report.close()
            directory.discard()  # a new run that never reached its first checkpoint leaves nothing
            directory.close()
            torch.set_num_threads(threads_before)
    return TrainingResult(run_dir=directory.target, steps=step, parameters=parameters,
                          final_eval=final_eval, tokens_per_second=report.tokens_per_second(),
                          seconds=report.seconds(), model=model, ended_by=ended_by,
                          budget_s=train.max_seconds)


def threads_in_use() -> str:
    """``1 thread`` or ``2 threads``: how many torch computes with on the CPU."""
    threads = torch.get_num_threads()
    return f"{threads} thread{'s' if threads != 1 else ''}"


def budget_left(train: TrainConfig, elapsed_s: float) -> bool:
    """Whether the time budget (``train.max_seconds``) can end a run that has trained
    ``elapsed_s`` seconds: it has one, not yet spent. A run resumed with a new ``--steps``
    after its budget was spent trains to those steps (at ``min_lr``: the decay has ended)."""
    return train.max_seconds > 0 and elapsed_s < train.max_seconds
