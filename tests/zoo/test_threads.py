"""CPU threads chosen, not left to chance: train.threads (--threads), zoo sample --threads, and
the one-time note when contention slows a CPU run."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
import torch
from click.testing import CliRunner

import zoo.training.progress as progress
from zoo.cli import cli
from zoo.config.threads import cpu_threads, set_cpu_threads
from zoo.config.training import TrainConfig
from zoo.training.progress import TrainingProgress


@pytest.fixture
def two_threads():
    """torch on 2 threads for the test, and everything as it was afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)
    set_cpu_threads(None)


def test_train_threads_is_used_recorded_and_restored(runner, registry, small_corpus, tiny_run,
                                                     tmp_path, two_threads):
    out = tmp_path / "run"
    result = runner.invoke(cli, ["train", "gru-tied", "--data", str(small_corpus), "--out",
                                 str(out), *tiny_run, "--threads", "1"], obj=registry)
    assert result.exit_code == 0, result.output
    assert re.search(r"device cpu, 1 thread[;,]", result.output)  # what it trained with
    assert json.loads((out / "config.json").read_text())["train"]["threads"] == 1
    assert torch.get_num_threads() == 2  # a notebook's torch is left as it was
    resumed = runner.invoke(cli, ["train", "gru-tied", "--resume", str(out), "--steps", "10",
                                  "--threads", "2", "--no-progress"], obj=registry)
    assert resumed.exit_code == 0, resumed.output
    assert re.search(r"device cpu, 2 threads[;,]", resumed.output)
    assert json.loads((out / "config.json").read_text())["train"]["threads"] == 2


def test_threads_below_zero_are_refused(runner, registry):
    result = runner.invoke(cli, ["train", "gru-tied", "--threads", "-1"], obj=registry)
    assert result.exit_code == 2 and "threads" in result.output


def speeds_reported(monkeypatch, tmp_path, seconds_per_window: list[float]) -> list[str]:
    """The lines a CPU run prints when its log windows of 100 tokens take these seconds."""
    clock = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    lines: list[str] = []
    report = TrainingProgress(SimpleNamespace(path=tmp_path), TrainConfig(log_interval=1),
                              start_step=0, elapsed_before=0.0, device=torch.device("cpu"),
                              world_size=1, is_main=True, show=False, log=lines.append)
    for step, seconds in enumerate(seconds_per_window, 1):
        report.count_step(torch.tensor(1.0), 100)
        clock[0] += seconds
        report.log_training(step, 1e-3)
    return lines


def test_a_run_slowed_several_fold_is_told_once_to_use_fewer_threads(monkeypatch, tmp_path,
                                                                     two_threads):
    lines = speeds_reported(monkeypatch, tmp_path, [3, 2, 1, 1, 1, 5, 5, 6, 5])
    [note] = lines
    assert note.startswith("step 6: training slowed to 20% of its best speed (20 against 100 "
                           "tok/s)")
    assert "fewer threads may help: --threads 1 (now 2; with --resume too)" in note


def test_ordinary_wobble_and_warm_up_say_nothing(monkeypatch, tmp_path, two_threads):
    # the first windows (warm-up) are slow, later ones vary by less than 3x
    assert speeds_reported(monkeypatch, tmp_path, [9, 9, 1, 2, 1.5, 2.5, 1]) == []


def test_sample_threads_reach_torch_and_onnxruntime(registry, trained_run, trained_export,
                                                    monkeypatch, two_threads):
    from zoo_exports import onnx_sampler

    opened = []
    real = onnx_sampler.OnnxStep.__init__

    def spy(self, *args, **kwargs):
        opened.append(kwargs.get("threads"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(onnx_sampler.OnnxStep, "__init__", spy)
    result = CliRunner().invoke(cli, ["sample", str(trained_run), "--threads", "1",
                                      "--max-new-tokens", "5"], obj=registry)
    assert result.exit_code == 0, result.output
    assert torch.get_num_threads() == 1 and cpu_threads() == 1
    result = CliRunner().invoke(cli, ["sample", str(trained_export), "--threads", "1",
                                      "--max-new-tokens", "5", "--seed", "3"], obj=registry)
    assert result.exit_code == 0, result.output
    assert opened and opened[-1] == 1  # the onnxruntime session was made with one thread
