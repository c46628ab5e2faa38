"""Learning-rate schedule: linear warmup, then cosine decay to ``min_lr``."""

from __future__ import annotations

from itertools import pairwise

import pytest

from zoo.schedule import learning_rate

LR, MIN_LR = 1e-3, 1e-4


def schedule(warmup: int, total: int) -> list[float]:
    return [
        learning_rate(step, lr=LR, min_lr=MIN_LR, warmup_steps=warmup, total_steps=total)
        for step in range(1, total + 1)
    ]


def test_warmup_rises_linearly_to_lr():
    rates = schedule(warmup=10, total=100)
    warmup = rates[:10]
    assert warmup[0] == pytest.approx(LR / 10)
    steps = [b - a for a, b in pairwise(warmup)]
    assert steps == pytest.approx([LR / 10] * 9)
    assert rates[9] == pytest.approx(LR)  # the last warmup step reaches the peak


def test_decays_monotonically_to_min_lr_at_total_steps():
    rates = schedule(warmup=10, total=100)
    decay = rates[9:]
    assert all(b < a for a, b in pairwise(decay))
    assert rates[-1] == pytest.approx(MIN_LR)
    assert all(MIN_LR <= rate <= LR for rate in rates)


def test_halfway_through_the_decay_is_the_midpoint():
    rate = learning_rate(60, lr=LR, min_lr=MIN_LR, warmup_steps=20, total_steps=100)
    assert rate == pytest.approx((LR + MIN_LR) / 2)


def test_without_warmup_starts_at_lr_and_ends_at_min_lr():
    rates = schedule(warmup=0, total=50)
    assert learning_rate(0, lr=LR, min_lr=MIN_LR, warmup_steps=0, total_steps=50) == LR
    assert LR * 0.99 < rates[0] <= LR
    assert all(b < a for a, b in pairwise(rates))
    assert rates[-1] == pytest.approx(MIN_LR)


def test_stays_at_min_lr_past_total_steps():
    rate = learning_rate(500, lr=LR, min_lr=MIN_LR, warmup_steps=10, total_steps=100)
    assert rate == pytest.approx(MIN_LR)


def test_progress_drives_the_decay_instead_of_steps():
    kwargs = {"lr": LR, "min_lr": MIN_LR, "warmup_steps": 10, "total_steps": 1000}
    assert learning_rate(20, progress=0.5, **kwargs) == pytest.approx((LR + MIN_LR) / 2)
    assert learning_rate(20, progress=1.0, **kwargs) == pytest.approx(MIN_LR)
    assert learning_rate(20, progress=0.0, **kwargs) == pytest.approx(LR)
