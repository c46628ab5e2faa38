"""Benchmark: the default `zoo train gru-tied`, timed end to end, with a reference baseline.

Runs, in one session on this machine:
1. `zoo train gru-tied` with no options: the packaged Tiny Shakespeare, nanoGPT's
   90/10 split — wall time (process start included), then `zoo eval` on every
   validation character (not timed);
2. the previous default (zoo 0.1's settings, given as --set) the same way, alternating
   with 1. round by round (ABBA order), so both see the same machine;
3. a count-based character bigram on the same split: the floor any model should beat.

Usage: python tests/benchmarks/bench_default_run.py [--rounds N] [--keep DIR]
(DIR: keep the last round's default run there). Numbers go to stdout and to
bench-results/default_run.json.
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


# zoo 0.1's default run (64 windows of 64 characters, dropout 0.1, AdamW 3e-3 -> 3e-4,
# weight decay 0.01, beta2 0.99, float32 on the CPU), spelled out now that gru-tied
# suggests other settings and CPUs with bfloat16 instructions train under autocast.
PREVIOUS_DEFAULT = ["model.dropout=0.1", "train.batch_size=64", "train.block_size=64",
                    "train.lr=3e-3", "train.min_lr=3e-4", "train.weight_decay=0.01",
                    "train.beta2=0.99", "train.precision=float32"]


def timed_train(settings: list[str], out: Path) -> dict:
    """Train gru-tied into `out` with `settings` (--set values); its wall time and losses."""
    command = [sys.executable, "-m", "zoo", "train", "gru-tied", "--out", str(out),
               "--no-progress"]
    for setting in settings:
        command += ["--set", setting]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    final = [r for r in records if r["split"] == "val"][-1]
    speeds = [r["tokens_per_s"] for r in records if r["split"] == "train"]
    evaluated = json.loads(subprocess.run(
        [sys.executable, "-m", "zoo", "eval", str(out), "--json", "--no-progress"],
        check=True, capture_output=True, text=True).stdout)
    return {"wall_s": round(seconds, 1), "last_eval_loss": round(final["loss"], 4),
            "val_loss": round(evaluated["loss"], 4),
            "bits_per_char": round(evaluated["bits_per_char"], 4), "steps": final["step"],
            "train_tokens_per_s": round(float(np.median(speeds)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each default")
    parser.add_argument("--keep", type=Path, help="train the last default run into this new "
                        "directory")
    options = parser.parse_args()
    text = packaged_text()
    results: dict[str, object] = {
        "count_bigram_tinyshakespeare": {"val_loss": round(count_bigram_val_loss(text), 4)}}
    rounds: dict[str, list[dict]] = {"default": [], "previous_default": []}
    with tempfile.TemporaryDirectory() as scratch:
        for round_number in range(options.rounds):
            order = ["previous_default", "default"]
            for name in order if round_number % 2 == 0 else order[::-1]:
                last = name == "default" and round_number == options.rounds - 1
                out = options.keep if last and options.keep else (
                    Path(scratch) / f"{name}-{round_number}")
                numbers = timed_train([] if name == "default" else PREVIOUS_DEFAULT, out)
                rounds[name].append(numbers)
                print(f"round {round_number + 1} {name:18s} "
                      + ", ".join(f"{k}={v}" for k, v in numbers.items()), flush=True)
    for name, runs in rounds.items():
        results[name] = {"rounds": runs,
                         "median_wall_s": float(np.median([r["wall_s"] for r in runs])),
                         "median_val_loss": float(np.median([r["val_loss"] for r in runs]))}
        print(f"{name:18s} median wall {results[name]['median_wall_s']} s, "
              f"median val loss {results[name]['median_val_loss']}")
    walls = [new["wall_s"] / old["wall_s"]
             for new, old in zip(rounds["default"], rounds["previous_default"], strict=True)]
    results["wall_ratio_default_to_previous"] = round(float(np.median(walls)), 3)
    print(f"wall time, default / previous default (median of rounds): "
          f"{results['wall_ratio_default_to_previous']}")
    out = REPO / "bench-results" / "default_run.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    assert all(math.isfinite(r["val_loss"]) for r in rounds["default"])


if __name__ == "__main__":
    main()
