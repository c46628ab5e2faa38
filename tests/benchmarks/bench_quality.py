"""Benchmark: every architecture trained for the same wall-clock budget on Tiny Shakespeare.

Char tokenizer, nanoGPT's split (first 90% train, last 10% validation), each
architecture's own defaults, `--max-seconds` as the budget (the cosine decay
follows the clock). Each run is then scored by `zoo eval` on every
validation token. Also runs nanoGPT's CPU "baby GPT" configuration.

Usage: python tests/benchmarks/bench_quality.py [--budget 600] [--only NAME ...] [--skip-baby]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import TINY_SHAKESPEARE, save, score_run, zoo

ARCHITECTURES = ["transformer", "gru-tied", "bigram", "rnn", "lstm", "gru", "mlp", "wavenet"]

# nanoGPT's config/train_shakespeare_char.py with its README's CPU overrides.
BABY_GPT = [
    "--set", "model.layers=4", "--set", "model.heads=4", "--set", "model.embed=128",
    "--set", "model.block_size=64", "--set", "model.dropout=0.0", "--block-size", "64",
    "--batch-size", "12", "--steps", "2000", "--lr", "1e-3", "--set", "train.min_lr=1e-4",
    "--set", "train.warmup_steps=100", "--set", "train.weight_decay=0.1",
    "--set", "train.beta2=0.99", "--set", "train.eval_interval=2000",
    "--set", "train.eval_batches=20",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per architecture")
    parser.add_argument("--only", nargs="*", default=ARCHITECTURES)
    parser.add_argument("--skip-baby", action="store_true")
    parser.add_argument("--data", type=Path, default=TINY_SHAKESPEARE)
    options = parser.parse_args()

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in options.only:
            run = Path(scratch) / name
            wall = zoo("train", name, "--data", str(options.data), "--out", str(run),
                       "--steps", "1000000", "--max-seconds", str(options.budget),
                       "--no-progress")
            results[name] = {**score_run(run), "wall_s": round(wall, 1)}
            print(name, results[name], flush=True)
        if not options.skip_baby:
            run = Path(scratch) / "baby-gpt"
            wall = zoo("train", "transformer", "--data", str(options.data), "--out", str(run),
                       *BABY_GPT, "--no-progress")
            results["transformer (baby GPT config)"] = {**score_run(run), "wall_s": round(wall, 1)}
            print("baby GPT", results["transformer (baby GPT config)"], flush=True)
    print(f"saved {save('quality', {'budget_s': options.budget, 'runs': results})}")


if __name__ == "__main__":
    main()
