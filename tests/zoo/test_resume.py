"""--resume continues a run exactly: the same logged losses as an uninterrupted run, on CPU."""

from __future__ import annotations

import pytest

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.config import build_run_config
from zoo.runs import read_metrics
from zoo.training import TrainingInterrupted, train_run


def _config(registry, corpus, architecture, *extra):
    overrides = [
        "model.embed=16", "model.hidden=24", "model.dropout=0.2", "train.steps=12",
        "train.batch_size=3", "train.block_size=16", "train.eval_interval=4",
        "train.eval_batches=2", "train.log_interval=2", "train.warmup_steps=3",
        "train.device=cpu", f"dataset.path={corpus}", *extra,
    ]
    layers = {"model": {"name": architecture}, "dataset": {"name": "text"}}
    return build_run_config(registry, layers, overrides)


def _interrupt_at(step):
    def on_step(current):
        if current == step:
            raise KeyboardInterrupt

    return on_step


@pytest.mark.parametrize(("architecture", "extra"), [
    ("gru-tied", ()),  # random windows; dropout exercises torch's RNG
    ("lstm", ("train.stateful=true",)),  # carried (h, c) must be restored too
])
def test_interrupted_and_resumed_run_logs_the_same_losses(registry, small_corpus, tmp_path,
                                                          architecture, extra):
    config = _config(registry, small_corpus, architecture, *extra)
    quiet = {"progress": False, "log": lambda _: None}
    train_run(registry, config, tmp_path / "straight", **quiet)

    with pytest.raises(TrainingInterrupted) as interrupted:
        train_run(registry, config, tmp_path / "resumed", on_step=_interrupt_at(7), **quiet)
    assert interrupted.value.checkpoint_step == 4
    assert max(m["step"] for m in read_metrics(tmp_path / "resumed")) == 6
    train_run(registry, config, tmp_path / "resumed", resume=True, **quiet)

    def losses(run):
        return [(m["step"], m["split"], m["loss"]) for m in read_metrics(tmp_path / run)]

    assert losses("resumed") == losses("straight")
    elapsed = [m["elapsed_s"] for m in read_metrics(tmp_path / "resumed")]
    assert elapsed == sorted(elapsed)  # wall time continues across the interruption
    assert len(losses("straight")) == 6 + 3  # train records every 2 steps, val every 4


def test_resume_through_the_cli_can_extend_steps(runner, registry, trained_run, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(trained_run, run)
    result = runner.invoke(cli, ["train", "gru-tied", "--resume", str(run), "--steps", "10",
                                 "--no-progress"], obj=registry)
    assert result.exit_code == 0, result.output
    assert [m["step"] for m in read_metrics(run) if m["split"] == "val"] == [4, 8, 10]


def test_resume_refuses_settings_the_run_fixes(runner, registry, trained_run):
    result = runner.invoke(cli, ["train", "gru-tied", "--resume", str(trained_run),
                                 "--lr", "0.1"], obj=registry)
    assert "drop --lr" in one_line_error(result)


def test_resume_refuses_another_architecture(runner, registry, trained_run):
    result = runner.invoke(cli, ["train", "lstm", "--resume", str(trained_run)], obj=registry)
    assert "trains 'gru-tied', not 'lstm'" in one_line_error(result)
