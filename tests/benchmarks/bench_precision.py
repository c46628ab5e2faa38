"""Benchmark: training speed in float32 against bfloat16 autocast, every architecture, on the CPU.

`train.precision=auto` autocasts a CPU's training steps to bfloat16 only where the CPU has
bfloat16 instructions (AVX512-BF16 or AMX). This measures what that buys: for each built-in
architecture with its own defaults, one process alternates `zoo.train` runs of `--seconds`
(a time budget, no evaluation until the end) in float32 and in bfloat16, ABBA order over
`--rounds`, and reads training tokens/s (the run's median window). Run it alone.

Usage: python tests/benchmarks/bench_precision.py [--seconds 15] [--rounds 2] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import save

import zoo
from zoo.models.devices import cpu_computes_bfloat16

ARCHITECTURES = ("gru-tied", "lstm", "gru", "rnn", "transformer", "mlp", "wavenet", "bigram")
PRECISIONS = ("float32", "bfloat16")


def train_rate(name: str, precision: str, seconds: float, scratch: Path) -> float:
    """Training tokens/s of ``name`` in ``precision`` over a ``seconds`` budget."""
    run = zoo.train(name, out=scratch / f"{name}-{precision}-{time.monotonic_ns()}",
                    progress=False, max_seconds=seconds, log=lambda line: None,
                    **{"train.precision": precision, "train.eval_interval": 1_000_000,
                       "train.log_interval": 5})
    speeds = [m["tokens_per_s"] for m in run.metrics if m["split"] == "train"]
    return statistics.median(speeds) if speeds else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="each measurement")
    parser.add_argument("--rounds", type=int, default=2, help="ABBA rounds per architecture")
    parser.add_argument("--only", nargs="*", default=list(ARCHITECTURES))
    options = parser.parse_args()
    print(f"CPU bfloat16 instructions: {cpu_computes_bfloat16()}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads", flush=True)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in options.only:
            rates: dict[str, list[float]] = {p: [] for p in PRECISIONS}
            for round_ in range(options.rounds):
                order = PRECISIONS if round_ % 2 == 0 else PRECISIONS[::-1]
                for precision in order:
                    rates[precision].append(train_rate(name, precision, options.seconds,
                                                       Path(folder)))
            medians = {p: statistics.median(r) for p, r in rates.items()}
            results[name] = {**{f"{p} tokens/s": round(m) for p, m in medians.items()},
                             "bfloat16 / float32": round(medians["bfloat16"]
                                                         / medians["float32"], 2)}
            print(f"{name:12}", results[name], flush=True)
    path = save("precision", {"seconds": options.seconds, "rounds": options.rounds,
                              "cpu_bfloat16": cpu_computes_bfloat16(), **results})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
