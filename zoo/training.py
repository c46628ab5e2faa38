"""The one training loop: any registered architecture, tokenizer and dataset.

AdamW with linear warmup and cosine decay, gradient clipping, periodic
evaluation on the validation split, ``metrics.jsonl`` and atomic checkpoints.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from zoo import runs
from zoo.build import build_dataset, build_model, build_tokenizer
from zoo.config import RunConfig, TrainConfig
from zoo.data import BatchSampler, TokenStream, load_splits
from zoo.devices import autocast_dtype, resolve_device
from zoo.metrics import bits_per_character, perplexity
from zoo.registry import Registry
from zoo.schedule import learning_rate


class TrainingInterrupted(Exception):
    """Ctrl-C during training. The weights may be mid-update, so they are not saved:
    the last checkpoint written at an evaluation stays intact."""

    def __init__(self, run_dir: Path, step: int, checkpoint_step: int) -> None:
        kept = (
            f"the checkpoint of step {checkpoint_step} is in {run_dir}"
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


def _autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    dtype = autocast_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def batch_loss(
    model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy over a batch and the logits it came from."""
    logits, _ = model(inputs)  # (B, T, V)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))
    return loss, logits


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    sampler: BatchSampler,
    split: str,
    batch_size: int,
    num_batches: int,
    device: torch.device,
) -> dict[str, float]:
    """Loss (nats/token), perplexity, bits per character and token accuracy on ``split``."""
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    count = 0
    for x, y in sampler.eval_batches(split, batch_size, num_batches):
        inputs, targets = _to_device(x, y, device)
        with _autocast(device):
            loss, logits = batch_loss(model, inputs, targets)
        total_loss += loss.double() * targets.numel()
        correct += (logits.argmax(dim=-1) == targets).sum()
        count += targets.numel()
    model.train(was_training)
    loss_value = total_loss.item() / count
    stream: TokenStream = sampler.streams[split]
    return {
        "loss": loss_value,
        "perplexity": perplexity(loss_value),
        "bits_per_char": bits_per_character(loss_value, stream.tokens_per_char),
        "accuracy": correct.item() / count,
    }


def _to_device(
    x: np.ndarray, y: np.ndarray, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    inputs = torch.from_numpy(x)
    targets = torch.from_numpy(y)
    if device.type == "cuda":
        return inputs.pin_memory().to(device, non_blocking=True), targets.pin_memory().to(
            device, non_blocking=True
        )
    return inputs.to(device), targets.to(device)


def train_run(
    registry: Registry,
    run_config: RunConfig,
    run_dir: Path,
    *,
    progress: bool = True,
    log: Any = print,
) -> TrainingResult:
    """Train a fresh model as ``run_config`` says, writing the run into ``run_dir``."""
    from tqdm.auto import tqdm

    train = run_config.train
    torch.manual_seed(train.seed)
    device = resolve_device(train.device)

    dataset = build_dataset(registry, run_config.dataset)
    tokenizer = build_tokenizer(registry, run_config.tokenizer)
    tokenizer.train(dataset.texts("train"))
    streams = load_splits(dataset, tokenizer)
    sampler = BatchSampler(streams, train.block_size, train.seed)
    vocab_size = tokenizer.vocab_size

    model = build_model(registry, run_config.model, vocab_size).to(device)
    model.train()
    optimizer = make_optimizer(model, train, device)
    parameters = count_parameters(model)
    existed = run_dir.exists()
    runs.write_run_files(run_dir, run_config, tokenizer, vocab_size)
    log(
        f"{run_config.model.name}: {parameters / 1e6:.2f}M parameters, vocab {vocab_size}, "
        f"{len(streams['train'].ids):,} train tokens, device {device}; run in {run_dir}"
    )

    history: list[dict[str, Any]] = []

    def record(entry: dict[str, Any]) -> None:
        history.append(entry)
        runs.append_metrics(run_dir, entry)

    tokens_per_step = train.batch_size * train.block_size
    started = time.perf_counter()
    window_start, window_steps = started, 0
    running_loss = torch.zeros((), device=device)
    final_eval: dict[str, float] = {}
    step = checkpoint_step = 0
    bar = tqdm(total=train.steps, disable=None if progress else True, unit="step", leave=True)
    try:
        for step in range(1, train.steps + 1):
            lr = learning_rate(
                step,
                lr=train.lr,
                min_lr=train.min_lr,
                warmup_steps=train.warmup_steps,
                total_steps=train.steps,
            )
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs, targets = _to_device(*sampler.train_batch(train.batch_size), device)
            with _autocast(device):
                loss, _ = batch_loss(model, inputs, targets)
            loss.backward()
            if train.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            running_loss += loss.detach()
            window_steps += 1
            bar.update(1)

            if step % train.log_interval == 0 or step == train.steps:
                now = time.perf_counter()
                mean_loss = running_loss.item() / window_steps
                if not math.isfinite(mean_loss):
                    raise FloatingPointError(
                        f"training loss became {mean_loss} at step {step}; lower --lr"
                    )
                speed = window_steps * tokens_per_step / (now - window_start)
                record({"step": step, "split": "train", "loss": mean_loss, "lr": lr,
                        "tokens_per_s": speed, "elapsed_s": now - started})
                bar.set_postfix(loss=f"{mean_loss:.3f}", tok_s=f"{speed:,.0f}")
                running_loss.zero_()
                window_start, window_steps = time.perf_counter(), 0

            if step % train.eval_interval == 0 or step == train.steps:
                final_eval = evaluate(
                    model, sampler, "val", train.batch_size, train.eval_batches, device
                )
                record({"step": step, "split": "val", **final_eval,
                        "elapsed_s": time.perf_counter() - started})
                runs.save_checkpoint(run_dir, model, step)
                checkpoint_step = step
                bar.write(
                    f"step {step}: val loss {final_eval['loss']:.4f}, "
                    f"bits/char {final_eval['bits_per_char']:.3f}, "
                    f"accuracy {final_eval['accuracy']:.3f}"
                )
                window_start = time.perf_counter()
    except BaseException as error:
        bar.close()
        if checkpoint_step == 0:  # nothing loadable was written yet
            runs.remove_run_files(run_dir, keep_directory=existed)
        if isinstance(error, KeyboardInterrupt):
            raise TrainingInterrupted(run_dir, step, checkpoint_step) from None
        raise
    bar.close()
    seconds = time.perf_counter() - started
    train_speeds = [h["tokens_per_s"] for h in history if h["split"] == "train"]
    return TrainingResult(
        run_dir=run_dir,
        steps=train.steps,
        parameters=parameters,
        final_eval=final_eval,
        tokens_per_second=float(np.median(train_speeds)) if train_speeds else 0.0,
        seconds=seconds,
        model=model,
        history=history,
    )
