"""What training shows: a tqdm bar on a terminal, one-line progress records anywhere else."""

from __future__ import annotations

import io
import re

import pytest

from zoo.config.run import build_run_config
from zoo.training.loop import train_run
from zoo.training.progress import format_duration

LINE = re.compile(r"step (\d+)/20 loss \d+\.\d{3} [\d,]+ tok/s \d+s elapsed")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _train(registry, corpus, out, progress=True):
    config = build_run_config(
        registry, {"model": {"name": "bigram"}, "dataset": {"name": "text"}},
        ["train.steps=20", "train.batch_size=2", "train.block_size=8", "train.log_interval=1",
         "train.eval_interval=20", "train.eval_batches=1", "train.device=cpu",
         f"dataset.path={corpus}"],
    )
    lines: list[str] = []
    train_run(registry, config, out, progress=progress, log=lines.append)
    return [line for line in lines if LINE.fullmatch(line)]


def test_without_a_terminal_a_line_every_ten_log_intervals(registry, small_corpus, tmp_path,
                                                           monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a log file, CI, captured output
    monkeypatch.setattr("zoo.training.progress.LINE_EVERY_SECONDS", 3600.0)
    lines = _train(registry, small_corpus, tmp_path / "run")
    assert [int(LINE.fullmatch(line)[1]) for line in lines] == [10, 20]


def test_without_a_terminal_a_line_at_least_every_30_seconds(registry, small_corpus, tmp_path,
                                                             monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())
    monkeypatch.setattr("zoo.training.progress.LINE_EVERY_SECONDS", 0.0)  # every log point is late
    assert len(_train(registry, small_corpus, tmp_path / "run")) == 20


def test_on_a_terminal_the_bar_shows_instead(registry, small_corpus, tmp_path, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert _train(registry, small_corpus, tmp_path / "run") == []
    assert "20/20" in terminal.getvalue() and "tok_s" in terminal.getvalue()


def test_no_progress_shows_neither(registry, small_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert _train(registry, small_corpus, tmp_path / "run", progress=False) == []


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (42.9, "42s"), (130, "2m10s"), (3600 + 5 * 60 + 7, "1h05m"),
])
def test_durations_are_short(seconds, text):
    assert format_duration(seconds) == text


def _train_on_the_clock(registry, corpus, out, log):
    """Bigram for 2 seconds, no steps: the budget alone ends it."""
    config = build_run_config(
        registry, {"model": {"name": "bigram"}, "dataset": {"name": "text"}},
        ["train.max_seconds=2", "train.batch_size=2", "train.block_size=8",
         "train.log_interval=1", "train.eval_interval=100000", "train.device=cpu",
         f"dataset.path={corpus}"],
    )
    return train_run(registry, config, out, progress=True, log=log)


def test_a_budgeted_runs_lines_show_the_budget_and_no_step_total(registry, small_corpus, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())
    monkeypatch.setattr("zoo.training.progress.LINE_EVERY_SECONDS", 0.0)
    lines: list[str] = []
    result = _train_on_the_clock(registry, small_corpus, tmp_path / "run", lines.append)
    clock = re.compile(r"step (\d+) loss \d+\.\d{3} [\d,]+ tok/s \ds of 2s elapsed")
    steps = [int(m[1]) for m in map(clock.fullmatch, lines) if m]
    assert steps and steps[-1] <= result.steps and result.ended_by == "budget"


def test_a_budgeted_runs_bar_counts_towards_the_step_its_pace_reaches(registry, small_corpus,
                                                                      tmp_path, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    result = _train_on_the_clock(registry, small_corpus, tmp_path / "run", lambda _: None)
    totals = [int(total) for total in re.findall(r"\| *\d+/(\d+) \[", terminal.getvalue())]
    assert totals and all(total >= 1 for total in totals)
    assert abs(totals[-1] - result.steps) <= max(20, result.steps // 5)  # near the end: close
