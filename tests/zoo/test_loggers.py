"""Loggers as plugins: the built-in tensorboard logger, read back by TensorBoard itself."""

from __future__ import annotations

import pytest
from tensorboard.backend.event_processing.event_accumulator import TENSORS, EventAccumulator

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.runs.run_directory import read_metrics


def test_tensorboard_holds_the_runs_curves_and_samples(runner, registry, small_corpus,
                                                        tmp_path, tiny_run):
    out = tmp_path / "run"
    result = runner.invoke(cli, ["train", "gru-tied", "--data", str(small_corpus), "--out",
                                 str(out), *tiny_run, "--logger", "tensorboard",
                                 "--set", "train.sample_every=4",
                                 "--set", "train.sample_tokens=8",
                                 "--set", "train.log_interval=2"], obj=registry)
    assert result.exit_code == 0, result.output
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={TENSORS: 0})
    events.Reload()
    metrics = read_metrics(out)
    for split in ("train", "val"):
        records = [m for m in metrics if m["split"] == split]
        scalars = events.Scalars(f"{split}/loss")
        assert [s.step for s in scalars] == [m["step"] for m in records]
        assert [s.value for s in scalars] == pytest.approx([m["loss"] for m in records])
    samples = events.Tensors("samples/text_summary")
    texts = [s.tensor_proto.string_val[0].decode() for s in samples]
    recorded = [m for m in metrics if m["split"] == "sample"]
    assert [s.step for s in samples] == [m["step"] for m in recorded] == [4, 8]
    assert texts == [m["prompt"] + m["text"] for m in recorded]


def test_the_logger_kind_is_listed(runner, registry):
    result = runner.invoke(cli, ["list", "--kind", "logger"], obj=registry)
    assert result.exit_code == 0 and "tensorboard" in result.output


def test_an_unknown_logger_is_one_line_and_leaves_nothing(runner, registry, small_corpus,
                                                          tmp_path, tiny_run):
    out = tmp_path / "run"
    result = runner.invoke(cli, ["train", "gru-tied", "--data", str(small_corpus), "--out",
                                 str(out), *tiny_run, "--logger", "wandb"], obj=registry)
    assert "no logger 'wandb'; available: tensorboard" in one_line_error(result)
    assert not out.exists()


def test_a_run_that_ends_at_its_first_checkpoint_still_reaches_its_loggers(
        runner, registry, small_corpus, tmp_path, tiny_run):
    out = tmp_path / "run"
    result = runner.invoke(cli, ["train", "gru-tied", "--data", str(small_corpus), "--out",
                                 str(out), *tiny_run, "--steps", "4", "--logger", "tensorboard"],
                           obj=registry)
    assert result.exit_code == 0, result.output
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    assert [s.step for s in events.Scalars("val/loss")] == [4]
