"""Benchmark: training and encoding time of every tokenizer on all of Tiny Shakespeare.

Each tokenizer is trained on the training split (first 90%) with its default
options, then encodes the whole 1,115,394-character file; the encode time is
the best of three. Target: at most 2 s per tokenizer.

Usage: python tests/benchmarks/bench_tokenizers.py
"""

from __future__ import annotations

import time

from common import TINY_SHAKESPEARE, save

from zoo.registry.host import load_registry


def main() -> None:
    registry = load_registry()
    text = TINY_SHAKESPEARE.read_text("utf-8")
    train = text[: int(len(text) * 0.9)]
    results = {}
    for name in registry.names("tokenizer"):
        component = registry.get("tokenizer", name)
        tokenizer = component.load_factory()(component.default_config())
        started = time.perf_counter()
        tokenizer.train([train])
        trained = time.perf_counter() - started
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            ids = tokenizer.encode(text)
            timings.append(time.perf_counter() - started)
        results[name] = {
            "vocab_size": tokenizer.vocab_size,
            "train_s": round(trained, 2),
            "encode_s": round(min(timings), 3),
            "tokens": len(ids),
            "chars_per_token": round(len(text) / len(ids), 3),
            "round_trip": tokenizer.decode(ids) == text,
        }
        print(name, results[name], flush=True)
    print(f"saved {save('tokenizers', results)}")


if __name__ == "__main__":
    main()
