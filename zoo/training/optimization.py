"""The optimizer and its schedule: AdamW, linear warmup, then cosine decay to a floor."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from zoo.config.training import TrainConfig

#: The longest default warmup; shorter runs warm up over a tenth of their steps.
MAX_DEFAULT_WARMUP = 100


#: Devices whose fused AdamW kernel zoo uses: one kernel per parameter for the whole update.
#: On a CPU it makes a baby-GPT training step about 7% faster than the per-tensor loop
#: nanoGPT uses there (tests/benchmarks/bench_training_speed.py); MPS keeps the default.
FUSED_ADAMW_DEVICES = ("cuda", "cpu")


def make_optimizer(model: torch.nn.Module, train: TrainConfig, device: torch.device) -> Any:
    """AdamW that decays matrices and embeddings but not biases or norm gains."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": train.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    fused = device.type in FUSED_ADAMW_DEVICES
    return torch.optim.AdamW(groups, lr=train.lr, betas=(train.beta1, train.beta2), fused=fused)


def warmup_steps(train: TrainConfig) -> int:
    """``train.warmup_steps`` when given, else min(100, steps // 10); 100 for a run that only
    its time budget ends.

    Scaled with the run, so that a quick ``--steps 50`` run still reaches its
    peak learning rate (a budgeted run's default warmup also ends with the
    first tenth of its budget: :func:`scheduled_learning_rate`). A resumed run
    counts its (possibly raised) ``steps`` through this one rule.
    """
    if train.warmup_steps is not None:
        return train.warmup_steps
    limit = train.step_limit
    return MAX_DEFAULT_WARMUP if limit is None else min(MAX_DEFAULT_WARMUP, limit // 10)


def learning_rate(
    step: int,
    *,
    lr: float,
    min_lr: float,
    warmup_steps: int,
    total_steps: int,
    progress: float | None = None,
) -> float:
    """The learning rate for optimizer step ``step`` (1-based).

    Rises linearly to ``lr`` over ``warmup_steps``, then follows half a cosine
    down to ``min_lr`` at ``total_steps``. A run with a time budget passes
    ``progress`` (the fraction of the run done, 0 to 1) to drive the decay
    instead of the step count.
    """
    if warmup_steps > 0 and step <= warmup_steps:
        return lr * step / warmup_steps
    if progress is None:
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(1.0, max(0.0, progress))
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


#: The part of a time budget a default warmup may take at most.
WARMUP_BUDGET_FRACTION = 0.1


def scheduled_learning_rate(train: TrainConfig, step: int, seconds: float) -> float:
    """The run's learning rate at ``step``, ``seconds`` into its training (all sessions).

    The cosine follows whichever of the run's ends is nearer: its steps, or
    its time budget (``train.max_seconds``), so the rate reaches ``min_lr``
    when either ends the run. A budgeted run's default warmup ends at its
    warmup step or at a tenth of the budget, whichever comes first, so a
    short budget on a slow model still decays.
    """
    warmup, limit, budget = warmup_steps(train), train.step_limit, train.max_seconds
    warmed = step / warmup if warmup > 0 else 1.0  # the share of the warmup done
    if budget > 0 and train.warmup_steps is None:
        warmed = max(warmed, seconds / (budget * WARMUP_BUDGET_FRACTION))
    if warmed < 1:
        return train.lr * warmed
    done = [] if limit is None else [(step - warmup) / max(1, limit - warmup)]
    if budget > 0:
        done.append(seconds / budget)
    return learning_rate(step, lr=train.lr, min_lr=train.min_lr, warmup_steps=0,
                         total_steps=step, progress=max(done))


def set_learning_rate(optimizer: Any, lr: float) -> float:
    """Give every parameter group of ``optimizer`` the rate ``lr``; returns it."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr
