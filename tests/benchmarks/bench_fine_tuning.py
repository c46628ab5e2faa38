"""Benchmark: fine-tuning a Tiny Shakespeare run on a small new corpus, against scratch.

A gru-tied run trains on Tiny Shakespeare (`--pretrain-steps`), then two runs
train for the same `--steps` on a small corpus of different English: the
first 200,000 characters of Python's own documentation topics (the standard
library's `pydoc_data.topics`, so it is on every machine). One starts from
the Shakespeare run (`--init-from`, keeping its char tokenizer), one from
scratch with a char tokenizer trained on the new text. Reported: each run's
validation loss and bits per character on the new corpus, and the share of
the new corpus that the Shakespeare tokenizer turns into `<unk>` (which
flatters the fine-tuned run's numbers; see docs/benchmarks.md).

Usage: python tests/benchmarks/bench_fine_tuning.py [--pretrain-steps 600] [--steps 200]
    [--tokenizer char|byte]   (about 5 minutes on 2 quiet cores)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from common import save

import zoo

SETTINGS = {"batch_size": 32, "block_size": 128, "progress": False, "log": lambda _: None}


def new_corpus(directory: Path, characters: int = 200_000) -> Path:
    from pydoc_data.topics import topics

    path = directory / "python-docs.txt"
    path.write_text("\n\n".join(topics[key] for key in sorted(topics))[:characters], "utf-8")
    return path


def evaluated(run: zoo.Run) -> dict[str, Any]:
    result = run.evaluate("val")
    return {"val_loss": round(result["loss"], 4),
            "bits_per_char": round(result["bits_per_char"], 4),
            "unknown_rate": round(result["unknown_rate"], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrain-steps", type=int, default=600)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--tokenizer", default="char",
                        help="char (the new text has characters Shakespeare lacks) or byte")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        data = new_corpus(scratch)
        base = zoo.train("gru-tied", out=scratch / "shakespeare", steps=options.pretrain_steps,
                         tokenizer=options.tokenizer, **SETTINGS)
        fine = zoo.train("gru-tied", init_from=base.directory, data=data, out=scratch / "fine",
                         steps=options.steps, **SETTINGS)
        fresh = zoo.train("gru-tied", data=data, out=scratch / "fresh", steps=options.steps,
                          tokenizer=options.tokenizer, **SETTINGS)
        results = {"tokenizer": options.tokenizer,
                   "pretrain_steps": options.pretrain_steps, "steps": options.steps,
                   "corpus_chars": len(data.read_text("utf-8")),
                   "fine_tuned": evaluated(fine), "from_scratch": evaluated(fresh)}
    for name in ("fine_tuned", "from_scratch"):
        print(name, results[name])
    print(f"saved {save(f'fine_tuning_{options.tokenizer}', results)}")


if __name__ == "__main__":
    main()
