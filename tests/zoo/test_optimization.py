"""The optimizer and its schedule: AdamW groups, warmup scaled with the run, cosine decay."""

from __future__ import annotations

from itertools import pairwise

import pytest

from zoo.training.optimization import (
    learning_rate,
    make_optimizer,
    scheduled_learning_rate,
    set_learning_rate,
    warmup_steps,
)

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


def _train(**values):
    import dataclasses

    from zoo.config.training import TrainConfig

    return dataclasses.replace(TrainConfig(), **values)


@pytest.mark.parametrize(("steps", "expected"), [(50, 5), (8, 0), (1200, 100), (100_000, 100)])
def test_default_warmup_is_a_tenth_of_the_run_up_to_100_steps(steps, expected):
    assert warmup_steps(_train(steps=steps)) == expected


@pytest.mark.parametrize("given", [0, 7, 300])
def test_an_explicit_warmup_wins(given):
    assert warmup_steps(_train(steps=50, warmup_steps=given)) == given


def test_a_quick_run_reaches_its_learning_rate():
    train = _train(steps=50, lr=LR, min_lr=MIN_LR)
    rates = [scheduled_learning_rate(train, step, seconds=0.0) for step in range(1, 51)]
    assert max(rates) == pytest.approx(LR)
    assert rates.index(max(rates)) == 4  # the peak at step 5, a tenth of the run
    assert rates[-1] == pytest.approx(MIN_LR)


def test_a_time_budget_warms_up_like_the_step_count_says():
    train = _train(steps=50, lr=LR, min_lr=MIN_LR, max_seconds=10.0)
    assert scheduled_learning_rate(train, 1, seconds=0.0) == pytest.approx(LR / 5)
    assert scheduled_learning_rate(train, 5, seconds=0.0) == pytest.approx(LR)


def test_with_steps_and_a_budget_the_nearer_end_drives_the_decay():
    train = _train(steps=111, lr=LR, min_lr=MIN_LR, max_seconds=10.0)  # warmup: 11 steps
    halfway = (LR + MIN_LR) / 2
    assert scheduled_learning_rate(train, 21, seconds=5.0) == pytest.approx(halfway)  # the clock
    assert scheduled_learning_rate(train, 61, seconds=1.0) == pytest.approx(halfway)  # the steps
    assert scheduled_learning_rate(train, 111, seconds=1.0) == pytest.approx(MIN_LR)
    assert scheduled_learning_rate(train, 30, seconds=10.0) == pytest.approx(MIN_LR)


def test_a_budget_alone_decays_by_the_clock_to_min_lr_however_many_steps_it_takes():
    train = _train(lr=LR, min_lr=MIN_LR, max_seconds=100.0)  # no steps: the budget ends it
    assert train.step_limit is None and warmup_steps(train) == 100
    assert scheduled_learning_rate(train, 100, seconds=1.0) == pytest.approx(LR, rel=1e-3)
    assert scheduled_learning_rate(train, 5000, seconds=50.0) == pytest.approx((LR + MIN_LR) / 2)
    assert scheduled_learning_rate(train, 5000, seconds=99.99) == pytest.approx(MIN_LR, rel=1e-3)
    assert scheduled_learning_rate(train, 50_000, seconds=100.0) == pytest.approx(MIN_LR)


def test_a_budgets_default_warmup_ends_by_its_first_tenth_at_the_latest():
    """A slow model that takes 3 steps in a tenth of its budget still reaches lr, and decays."""
    train = _train(lr=LR, min_lr=MIN_LR, max_seconds=100.0)
    assert scheduled_learning_rate(train, 1, seconds=5.0) == pytest.approx(LR / 2)  # by the clock
    assert scheduled_learning_rate(train, 50, seconds=1.0) == pytest.approx(LR / 2)  # by steps
    after = scheduled_learning_rate(train, 3, seconds=10.0)
    assert LR * 0.95 < after < LR  # the warmup is over: the decay has begun, by the clock
    assert scheduled_learning_rate(train, 8, seconds=100.0) == pytest.approx(MIN_LR)
    given = _train(lr=LR, min_lr=MIN_LR, max_seconds=100.0, warmup_steps=200)
    assert scheduled_learning_rate(given, 50, seconds=50.0) == pytest.approx(LR / 4)  # as given


def test_a_run_with_neither_steps_nor_budget_trains_1200_steps():
    train = _train()
    assert (train.steps, train.step_limit, warmup_steps(train)) == (None, 1200, 100)
    assert scheduled_learning_rate(train, 1200, seconds=0.0) == pytest.approx(train.min_lr)


def test_set_learning_rate_reaches_every_parameter_group():
    import torch

    model = torch.nn.Linear(3, 2)
    optimizer = make_optimizer(model, _train(), torch.device("cpu"))
    assert set_learning_rate(optimizer, 0.5) == 0.5
    assert [group["lr"] for group in optimizer.param_groups] == [0.5, 0.5]


def test_weight_decay_spares_biases_and_gains():
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    optimizer = make_optimizer(model, _train(weight_decay=0.1), torch.device("cpu"))
    decayed, spared = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and [p.dim() for p in decayed["params"]] == [2]
    assert spared["weight_decay"] == 0.0 and len(spared["params"]) == 3  # bias, gain, bias


def test_a_run_made_before_the_schedule_check_still_loads(trained_run, tmp_path):
    """min_lr above lr is refused for new runs only: an existing run with it still samples."""
    import json
    import shutil

    import zoo

    run = shutil.copytree(trained_run, tmp_path / "old")
    config = json.loads((run / "config.json").read_text("utf-8"))
    config["train"]["min_lr"] = config["train"]["lr"] * 2
    (run / "config.json").write_text(json.dumps(config), "utf-8")
    [text] = zoo.load(run).sample("A", max_new_tokens=3, seed=0)
    assert text.startswith("A")
