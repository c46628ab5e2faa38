"""Learning-rate schedule: linear warmup, then cosine decay to a floor."""

from __future__ import annotations

import math


def learning_rate(
    step: int, *, lr: float, min_lr: float, warmup_steps: int, total_steps: int
) -> float:
    """The learning rate for optimizer step ``step`` (1-based).

    Rises linearly to ``lr`` over ``warmup_steps``, then follows half a cosine
    down to ``min_lr`` at ``total_steps``.
    """
    if warmup_steps > 0 and step <= warmup_steps:
        return lr * step / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)
