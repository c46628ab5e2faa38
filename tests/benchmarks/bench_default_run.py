"""Benchmark: the default `zoo train gru-tied`, timed end to end, with a reference baseline.

Runs, in one session on this machine:
1. `zoo train gru-tied` with no options: the packaged Tiny Shakespeare, nanoGPT's
   90/10 split — wall time (process start included) and validation loss;
2. a count-based character bigram on the same split: the floor any model should beat.

Usage: python tests/benchmarks/bench_default_run.py [--keep DIR]  (DIR: keep the run there)
Numbers go to stdout and to bench-results/default_run.json.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from zoo_plugins.datasets.tinyshakespeare import packaged_text

REPO = Path(__file__).resolve().parents[2]


def count_bigram_val_loss(text: str) -> float:
    """Validation nats/char of an add-one-smoothed count bigram on nanoGPT's 90/10 split."""
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in text])
    cut = int(len(ids) * 0.9)
    train, val = ids[:cut], ids[cut:]
    counts = np.ones((len(chars), len(chars)))
    np.add.at(counts, (train[:-1], train[1:]), 1)
    log_probs = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(-log_probs[val[:-1], val[1:]].mean())


def timed_train(args: list[str], out: Path) -> dict:
    command = [sys.executable, "-m", "zoo", "train", "gru-tied", "--out", str(out),
               "--no-progress", *args]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    final = [r for r in records if r["split"] == "val"][-1]
    speeds = [r["tokens_per_s"] for r in records if r["split"] == "train"]
    return {"wall_s": round(seconds, 1), "val_loss": round(final["loss"], 4),
            "bits_per_char": round(final["bits_per_char"], 4), "steps": final["step"],
            "train_tokens_per_s": round(float(np.median(speeds)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="train the run into this new directory")
    options = parser.parse_args()
    results: dict[str, dict] = {}
    text = packaged_text()
    results["count_bigram_tinyshakespeare"] = {"val_loss": round(count_bigram_val_loss(text), 4)}
    with tempfile.TemporaryDirectory() as scratch:
        out = options.keep or Path(scratch) / "default"
        results["default_tinyshakespeare"] = timed_train([], out)
    for name, numbers in results.items():
        print(f"{name:32s} " + ", ".join(f"{k}={v}" for k, v in numbers.items()))
    out = REPO / "bench-results" / "default_run.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    assert math.isfinite(results["default_tinyshakespeare"]["val_loss"])


if __name__ == "__main__":
    main()
