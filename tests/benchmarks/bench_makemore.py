"""Benchmark: makemore's job on `names`, every architecture for the same wall-clock budget.

Each architecture trains on the `names` dataset (first names, one per padded
row, block 16, batch 32) for `--seconds` of wall time, then reports its
loss on the held-out names (makemore's test set; `names` calls it val) and
how many of 1,000 samples (temperature 1.0) are new names, in the training
set, or in the held-out set, as makemore's `--sample-only` does.

Usage: python tests/benchmarks/bench_makemore.py [--seconds 45] [--only mlp ...]
(about 2 minutes per architecture on 2 quiet cores)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from common import save

import zoo

ARCHITECTURES = ["bigram", "mlp", "wavenet", "rnn", "gru", "lstm", "gru-tied", "transformer"]

#: Sizes comparable to makemore's (n_embd 64, n_embd2 64); the rest are each model's defaults.
SIZES: dict[str, dict[str, Any]] = {
    "bigram": {},
    "mlp": {"model.context": 3, "model.embed": 64, "model.hidden": 256},
    "wavenet": {"model.channels": 64, "model.layers": 4},
    "rnn": {"model.embed": 64, "model.hidden": 128, "model.layers": 1},
    "gru": {"model.embed": 64, "model.hidden": 128, "model.layers": 1},
    "lstm": {"model.embed": 64, "model.hidden": 128, "model.layers": 1},
    "gru-tied": {"model.embed": 64, "model.hidden": 128, "model.layers": 2},
    "transformer": {"model.embed": 64, "model.layers": 4, "model.heads": 4,
                    "model.block_size": 16},
}


def run_one(name: str, seconds: float, scratch: Path, samples: int) -> dict[str, Any]:
    run = zoo.train(name, dataset="names", out=scratch / name, progress=False,
                    steps=1_000_000, max_seconds=seconds, batch_size=32, block_size=16,
                    log=lambda _: None, **{"train.eval_interval": 1_000_000,
                                           "train.eval_batches": 20, **SIZES[name]})
    evaluation = run.evaluate("val")
    texts = run.sample(num_samples=samples, temperature=1.0, seed=0, max_new_tokens=32)
    found = run.novelty(texts)
    assert run.training is not None
    return {"steps": run.training.steps, "parameters": run.training.parameters,
            "val_loss": round(evaluation["loss"], 4),
            "new": found.new / found.samples, "in_train": found.in_train / found.samples,
            "in_val": found.in_val / found.samples,
            "examples": [t for t in texts if t][:8]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45.0, help="training budget each")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--only", action="append", choices=ARCHITECTURES)
    options = parser.parse_args()
    results: dict[str, Any] = {"seconds": options.seconds, "samples": options.samples}
    with tempfile.TemporaryDirectory() as scratch:
        for name in options.only or ARCHITECTURES:
            results[name] = run_one(name, options.seconds, Path(scratch), options.samples)
            r = results[name]
            print(f"{name:12} {r['steps']:6,} steps  val loss {r['val_loss']:.4f}  "
                  f"new {r['new']:.1%}  in train {r['in_train']:.1%}  "
                  f"e.g. {', '.join(r['examples'][:4])}", flush=True)
    print(f"saved {save('makemore', results)}")


if __name__ == "__main__":
    main()
