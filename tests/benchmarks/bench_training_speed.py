"""Benchmark: tokens/s of the zoo training loop against a minimal hand-written PyTorch loop.

Both train the same gru-tied model on the same batches (the zoo sampler's
seeded random windows of Tiny Shakespeare) in one process, alternating
A, B, A, B so that drift in the machine's speed hits both. Each figure is
the median over windows of `log_interval` steps, evaluation excluded.

Usage: python tests/benchmarks/bench_training_speed.py [--steps 150] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import TINY_SHAKESPEARE, save
from torch.nn import functional as F

from zoo.component_factory import build_dataset, build_model, build_tokenizer
from zoo.config import build_run_config
from zoo.data import RandomWindows
from zoo.registry import load_registry
from zoo.runs import read_metrics
from zoo.token_cache import cached_splits
from zoo.training import train_run


def hand_written_loop(model, sampler, steps: int, lr: float, window: int) -> list[float]:
    """The loop a user would write: AdamW, cross-entropy, backward, clip, step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99))
    speeds = []
    started = time.perf_counter()
    for step in range(1, steps + 1):
        x, y, _ = sampler.next_batch()
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
        logits, _ = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step % window == 0:
            loss.item()
            now = time.perf_counter()
            speeds.append(window * x.size / (now - started))
            started = now
    return speeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", type=Path, default=TINY_SHAKESPEARE)
    options = parser.parse_args()

    registry = load_registry()
    config = build_run_config(
        registry, {"model": {"name": "gru-tied"}, "dataset": {"name": "text"}},
        [f"dataset.path={options.data}", f"train.steps={options.steps}", "train.device=cpu",
         f"train.eval_interval={options.steps}", "train.eval_batches=1",
         "train.log_interval=10", "train.warmup_steps=0"],
    )
    dataset = build_dataset(registry, config.dataset)
    tokenizer = build_tokenizer(registry, config.tokenizer)
    tokenizer.train(dataset.texts("train"))
    streams = cached_splits(dataset, tokenizer)
    train = config.train

    zoo_speeds: list[float] = []
    hand_speeds: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        for round_index in range(options.rounds):
            torch.manual_seed(train.seed)
            model = build_model(registry, config.model, tokenizer.vocab_size)
            sampler = RandomWindows(streams["train"], train.block_size, train.batch_size,
                                    train.seed)
            hand_speeds += hand_written_loop(model, sampler, options.steps, train.lr,
                                             train.log_interval)[1:]  # first window warms up
            result = train_run(registry, config, Path(scratch) / f"zoo-{round_index}",
                               progress=False, log=lambda _: None)
            zoo_speeds += [m["tokens_per_s"] for m in read_metrics(result.run_dir)
                           if m["split"] == "train"][1:]
    hand = statistics.median(hand_speeds)
    zoo = statistics.median(zoo_speeds)
    results = {"hand_written_tokens_per_s": round(hand), "zoo_tokens_per_s": round(zoo),
               "ratio": round(zoo / hand, 3), "steps_per_round": options.steps,
               "rounds": options.rounds, "batch": [train.batch_size, train.block_size]}
    print(results)
    print(f"saved {save('training_speed', results)}")


if __name__ == "__main__":
    main()
