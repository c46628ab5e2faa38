"""Learning-rate schedule: linear warmup, then cosine decay to a floor."""

from __future__ import annotations

import math


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
    ``progress`` (the fraction of the budget used, 0 to 1) to drive the decay
    instead of the step count.
    """
    if warmup_steps > 0 and step <= warmup_steps:
        return lr * step / warmup_steps
    if progress is None:
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(1.0, max(0.0, progress))
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)
