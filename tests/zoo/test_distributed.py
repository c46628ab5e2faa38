"""The same `zoo train` under torchrun: 2 CPU processes with the gloo backend."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import pytest
import torch

from zoo.models.loading import load_run
from zoo.runs.run_directory import read_metrics


def test_two_process_ddp_run(registry, small_corpus, tmp_path):
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone",
        "-m", "zoo", "train", "gru", "--data", str(small_corpus), "--out", str(out),
        "--set", "model.embed=16", "--set", "model.hidden=32", "--steps", "6",
        "--batch-size", "4", "--block-size", "16", "--device", "cpu", "--no-progress",
        "--set", "train.eval_interval=3", "--set", "train.eval_batches=4",
        "--set", "train.log_interval=3",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_metrics(out)
    # rank 0 alone writes: every record once
    assert [(m["step"], m["split"]) for m in metrics] == [
        (3, "train"), (3, "val"), (6, "train"), (6, "val")]
    # evaluation is reduced across ranks: both halves of the small validation split, evaluated
    # whole (6,000 characters and the two ends of text, in full windows of 16), are counted
    assert all(m["tokens"] == (6002 - 1) // 16 * 16 for m in metrics if m["split"] == "val")
    assert result.stdout.count("done:") == 1
    assert load_run(registry, out).step == 6
    assert json.loads((out / "config.json").read_text())["model"]["name"] == "gru"


@pytest.mark.parametrize("fails", [False, True], ids=["finishes", "fails"])
def test_ranks_leave_the_group_together_unless_one_failed(monkeypatch, fails):
    """A gloo rank that tears down while the other still talks to it can abort at exit, so a
    finished run waits for every rank first; a failed one leaves at once, since the rank it
    would wait for may never come."""
    import zoo.training.distributed as distributed

    calls: list[str] = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: bool(calls))  # after joining
    monkeypatch.setattr(distributed.dist, "init_process_group",
                        lambda backend: calls.append(f"join {backend}"))
    monkeypatch.setattr(distributed.dist, "barrier", lambda: calls.append("wait for all"))
    monkeypatch.setattr(distributed.dist, "destroy_process_group",
                        lambda: calls.append("leave"))
    context = distributed.DistributedContext(rank=1, local_rank=1, world_size=2)
    with contextlib.suppress(RuntimeError), context.joined(torch.device("cpu")):
        if fails:
            raise RuntimeError("a step failed")
    assert calls == (["join gloo", "leave"] if fails else ["join gloo", "wait for all", "leave"])
