"""The one training loop: any registered architecture, tokenizer and dataset.

AdamW with linear warmup and cosine decay, gradient clipping, periodic
evaluation, ``metrics.jsonl`` and atomic checkpoints. Random windows by
default; ``train.stateful`` carries recurrent state across batches
(truncated BPTT). Resumable exactly on CPU; bf16 autocast on CUDA; optional
``torch.compile``; PyTorch DDP under ``torchrun``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zoo import runs
from zoo.build import build_dataset, build_model, build_tokenizer
from zoo.config import RunConfig, TrainConfig
from zoo.data import (
    ContiguousStreams,
    RandomWindows,
    TokenStream,
    check_long_enough,
    evaluation_batches,
)
from zoo.devices import resolve_device
from zoo.distributed import DistributedContext
from zoo.evaluation import State, autocast, batch_loss, evaluate_batches, to_device
from zoo.registry import Registry
from zoo.resume import load_resume_state, save_resume_state
from zoo.schedule import learning_rate
from zoo.token_cache import cached_splits


class TrainingInterrupted(Exception):
    """Ctrl-C during training. The weights may be mid-update, so they are not saved:
    the last checkpoint written at an evaluation stays intact."""

    def __init__(self, run_dir: Path, step: int, checkpoint_step: int) -> None:
        kept = (
            f"the checkpoint of step {checkpoint_step} is in {run_dir}; "
            f"continue with --resume {run_dir}"
            if checkpoint_step
            else f"no checkpoint was written yet, so {run_dir} was removed"
        )
        super().__init__(f"interrupted at step {step}; {kept}")
        self.run_dir = run_dir
        self.step = step
        self.checkpoint_step = checkpoint_step


@dataclass
class TrainingResult:
    """What a finished run reports."""

    run_dir: Path
    steps: int
    parameters: int
    final_eval: dict[str, float]
    tokens_per_second: float
    seconds: float
    model: Any = None  # the trained torch.nn.Module, as last checkpointed
    history: list[dict[str, Any]] = field(default_factory=list)


def count_parameters(model: torch.nn.Module) -> int:
    """Trainable parameters, each shared tensor counted once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_optimizer(model: torch.nn.Module, train: TrainConfig, device: torch.device) -> Any:
    """AdamW that decays matrices and embeddings but not biases or norm gains."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": train.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(
        groups, lr=train.lr, betas=(train.beta1, train.beta2), fused=device.type == "cuda"
    )


def _detach(state: State | None) -> State | None:
    return None if state is None else tuple(t.detach() for t in state)


class Trainer:
    """One run of the loop: builds everything from a run config, then trains."""

    def __init__(
        self,
        registry: Registry,
        run_config: RunConfig,
        run_dir: Path,
        *,
        resume: bool = False,
        progress: bool = True,
        log: Callable[[str], None] = print,
        on_step: Callable[[int], None] | None = None,
    ) -> None:
        self.registry = registry
        self.config = run_config
        self.train = run_config.train
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.progress = progress
        self.on_step = on_step
        self.distributed = DistributedContext.from_environment()
        self.log = log if self.distributed.is_main else (lambda _: None)
        self.history: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> None:
        self.history.append(entry)
        if self.distributed.is_main:
            runs.append_metrics(self.run_dir, entry)

    def run(self) -> TrainingResult:
        device = self.distributed.device(resolve_device(self.train.device))
        self.distributed.start(device)
        try:
            return self._run(device)
        finally:
            self.distributed.stop()

    def _prepare_data(self) -> tuple[Any, dict[str, TokenStream]]:
        dataset = build_dataset(self.registry, self.config.dataset)
        if self.resume:
            tokenizer = runs.load_tokenizer(self.registry, self.run_dir, self.config)
        else:
            tokenizer = build_tokenizer(self.registry, self.config.tokenizer)
            tokenizer.train(dataset.texts("train"))
        streams = cached_splits(dataset, tokenizer)
        check_long_enough(streams, self.train.block_size)
        return tokenizer, streams

    def _run(self, device: torch.device) -> TrainingResult:
        train, dist = self.train, self.distributed
        torch.manual_seed(train.seed + dist.rank)
        tokenizer, streams = self._prepare_data()
        sampler_class = ContiguousStreams if train.stateful else RandomWindows
        sampler = sampler_class(streams["train"], train.block_size, train.batch_size,
                                train.seed, dist.rank, dist.world_size)
        model = build_model(self.registry, self.config.model, tokenizer.vocab_size).to(device)
        model.train()
        optimizer = make_optimizer(model, train, device)
        carry: State | None = None
        start_step = 0
        elapsed_before = 0.0
        if self.resume:
            state = load_resume_state(self.run_dir, device)
            model.load_state_dict(state.model)
            optimizer.load_state_dict(state.optimizer)
            sampler.load_state_dict(state.sampler)
            torch.set_rng_state(state.torch_rng)
            if state.cuda_rng and device.type == "cuda":
                torch.cuda.set_rng_state_all(state.cuda_rng)
            carry, start_step = state.carry, state.step
            if dist.is_main:
                runs.truncate_metrics(self.run_dir, start_step)
            # wall time keeps counting from where the interrupted run stopped
            earlier = [m["elapsed_s"] for m in runs.read_metrics(self.run_dir)]
            elapsed_before = max(earlier, default=0.0)
            if start_step >= train.steps:
                self.log(f"run already at step {start_step} of {train.steps}; raise --steps")
        existed = self.run_dir.exists()
        if dist.is_main and not self.resume:
            runs.write_run_files(self.run_dir, self.config, tokenizer, tokenizer.vocab_size,
                                 registry=self.registry)

        step_model: Any = model
        if dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [device.index] if device.type == "cuda" else None
            step_model = DistributedDataParallel(model, device_ids=ids)
        if train.compile:
            step_model = torch.compile(step_model)

        parameters = count_parameters(model)
        self.log(
            f"{self.config.model.name}: {parameters / 1e6:.2f}M parameters, "
            f"vocab {tokenizer.vocab_size}, {len(streams['train'].ids):,} train tokens, "
            f"device {device}" + (f" x {dist.world_size} ranks" if dist.enabled else "")
            + f"; run in {self.run_dir}"
        )

        def evaluate_now() -> dict[str, float]:
            batches = evaluation_batches(streams["val"], train.block_size, train.batch_size,
                                         train.eval_batches, dist.rank, dist.world_size)
            return evaluate_batches(model, batches, streams["val"], device, dist)

        def checkpoint(step: int) -> None:
            if dist.is_main:
                save_resume_state(self.run_dir, step=step, model=model, optimizer=optimizer,
                                  sampler=sampler.state_dict(), carry=carry)
                runs.save_checkpoint(self.run_dir, model, step)

        from tqdm.auto import tqdm

        show = self.progress and dist.is_main
        bar = tqdm(total=train.steps, initial=start_step, disable=None if show else True,
                   unit="step")
        tokens_per_step = train.batch_size * train.block_size * dist.world_size
        started = time.perf_counter()
        window_start, window_steps = started, 0
        running_loss = torch.zeros((), device=device)
        final_eval: dict[str, float] = {}
        step = checkpoint_step = start_step
        try:
            for step in range(start_step + 1, train.steps + 1):
                elapsed = time.perf_counter() - started
                if train.max_seconds > 0 and dist.any(elapsed >= train.max_seconds, device):
                    step -= 1  # every rank stops together, after the same last step
                    break
                lr = learning_rate(
                    step, lr=train.lr, min_lr=train.min_lr, warmup_steps=train.warmup_steps,
                    total_steps=train.steps,
                    progress=elapsed / train.max_seconds if train.max_seconds > 0 else None,
                )
                for group in optimizer.param_groups:
                    group["lr"] = lr
                x, y, reset = sampler.next_batch()
                inputs, targets = to_device((x, y), device)
                with autocast(device):
                    loss, _, new_state = batch_loss(
                        step_model, inputs, targets, None if reset else carry
                    )
                loss.backward()
                if train.stateful:
                    carry = _detach(new_state)  # truncated BPTT: keep values, drop history
                if train.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                running_loss += loss.detach()
                window_steps += 1
                bar.update(1)
                if self.on_step is not None:
                    self.on_step(step)

                if step % train.log_interval == 0 or step == train.steps:
                    now = time.perf_counter()
                    mean_loss = running_loss.item() / window_steps
                    if not math.isfinite(mean_loss):
                        raise FloatingPointError(
                            f"training loss became {mean_loss} at step {step}; lower --lr"
                        )
                    speed = window_steps * tokens_per_step / (now - window_start)
                    self.record({"step": step, "split": "train", "loss": mean_loss, "lr": lr,
                                 "tokens_per_s": speed,
                                 "elapsed_s": elapsed_before + now - started})
                    bar.set_postfix(loss=f"{mean_loss:.3f}", tok_s=f"{speed:,.0f}")
                    running_loss.zero_()
                    window_start, window_steps = time.perf_counter(), 0

                if step % train.eval_interval == 0 or step == train.steps:
                    final_eval = evaluate_now()
                    self.record({"step": step, "split": "val", **final_eval,
                                 "elapsed_s": elapsed_before + time.perf_counter() - started})
                    checkpoint(step)
                    checkpoint_step = step
                    if dist.is_main:
                        bar.write(
                            f"step {step}: val loss {final_eval['loss']:.4f}, "
                            f"bits/char {final_eval['bits_per_char']:.3f}, "
                            f"accuracy {final_eval['accuracy']:.3f}"
                        )
                    window_start = time.perf_counter()
            if checkpoint_step != step:  # stopped by the time budget between evaluations
                final_eval = evaluate_now()
                self.record({"step": step, "split": "val", **final_eval,
                             "elapsed_s": elapsed_before + time.perf_counter() - started})
                checkpoint(step)
                checkpoint_step = step
            if not final_eval:  # resumed a run that had already finished
                final_eval = evaluate_now()
        except BaseException as error:
            bar.close()
            if checkpoint_step == 0 and dist.is_main and not self.resume:
                runs.remove_run_files(self.run_dir, keep_directory=existed)
            if isinstance(error, KeyboardInterrupt):
                raise TrainingInterrupted(self.run_dir, step, checkpoint_step) from None
            raise
        bar.close()
        train_speeds = [h["tokens_per_s"] for h in self.history if h["split"] == "train"]
        return TrainingResult(
            run_dir=self.run_dir,
            steps=step,
            parameters=parameters,
            final_eval=final_eval,
            tokens_per_second=float(np.median(train_speeds)) if train_speeds else 0.0,
            seconds=time.perf_counter() - started,
            model=model,
            history=self.history,
        )


def train_run(
    registry: Registry,
    run_config: RunConfig,
    run_dir: Path,
    *,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
    on_step: Callable[[int], None] | None = None,
) -> TrainingResult:
    """Train as ``run_config`` says into ``run_dir`` (a new run, or ``resume`` an existing one).

    ``on_step(step)`` is called after every optimizer step.
    """
    trainer = Trainer(registry, run_config, run_dir, resume=resume, progress=progress, log=log,
                      on_step=on_step)
    return trainer.run()
