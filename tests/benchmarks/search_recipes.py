"""The recipe search behind issue 22: many training recipes at equal cost, each a `zoo train`.

Three searches, each over recipes whose CPU cost is fixed by the step count and the tokens a
step sees (the steps each model makes in the budget on 2 CPU cores, measured by the quality,
default-run and makemore benchmarks):

- `default`: gru-tied 2 x 256 at the default run's 1,200 steps of 4,096 tokens (about 6
  minutes on 2 cores): what the default could be in the same time;
- `ten-minutes`: the models that lead the 10-minute quality benchmark, at its step counts;
- `names`: makemore's job, each model at the steps 120 s give it, scored by held-out loss
  and the share of 1,000 samples (temperature 1.0) that are new names.

The trials of those three run in parallel (`--jobs`), so their wall times say nothing: a GPU
box searches in minutes, and the winners are then timed alone on the CPU (bench_quality.py,
bench_default_run.py, bench_makemore.py). A fourth search runs on the CPU itself:

- `cpu`: 10 minutes on 2 CPU cores for real, a 600 s budget each (the cosine decay follows
  the clock), one trial at a time and alone on the machine (`--jobs` does not apply), each
  scored by `zoo eval` on every validation character. `--trial` picks some by name.

Every trial's figure goes to the docs.

Usage: python tests/benchmarks/search_recipes.py --out DIR [--only default names] [--jobs 16]
       python tests/benchmarks/search_recipes.py --out DIR --only cpu [--trial NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import score_run

DEFAULT = ["gru-tied", "--steps", "1200"]
NAMES = ["--dataset", "names", "--batch-size", "32", "--block-size", "16",
         "--set", "train.eval_interval=1000000"]

#: Each model on `names`: the steps 120 s give it on 2 cores (3 x the makemore benchmark's
#: 40 s counts) and makemore's sizes.
NAMES_MODELS = {
    "rnn": ["--steps", "22425", "--set", "model.embed=64", "--set", "model.hidden=128",
            "--set", "model.layers=1"],
    "gru": ["--steps", "11034", "--set", "model.embed=64", "--set", "model.hidden=128",
            "--set", "model.layers=1"],
    "lstm": ["--steps", "14520", "--set", "model.embed=64", "--set", "model.hidden=128",
             "--set", "model.layers=1"],
    "gru-tied": ["--steps", "6261", "--set", "model.embed=64", "--set", "model.hidden=128",
                 "--set", "model.layers=2"],
    "transformer": ["--steps", "6435", "--set", "model.embed=64", "--set", "model.layers=4",
                    "--set", "model.heads=4", "--set", "model.block_size=16"],
    "mlp": ["--steps", "28083", "--set", "model.context=3", "--set", "model.embed=64",
            "--set", "model.hidden=256"],
}


#: A 10-minute CPU trial: the budget alone decides its length; one evaluation, at the end.
CPU_BUDGET = ["--steps", "1000000", "--max-seconds", "600",
              "--set", "train.eval_interval=1000000"]
#: gru-tied's suggested settings (the default search's winner), given to other models.
WINNER_SCHEDULE = ["--batch-size", "32", "--block-size", "128", "--lr", "5e-3",
                   "--set", "train.min_lr=1e-4", "--set", "train.weight_decay=0",
                   "--set", "train.beta2=0.95"]
FLOAT32 = ["--set", "train.precision=float32"]  # the CPU trials made before bfloat16 autocast


def lstm_trial(hidden: int, dropout: float, *extra: str) -> list[str]:
    """A 10-minute CPU trial of a 2-layer LSTM of width ``hidden`` on the winner's schedule."""
    return ["lstm", *CPU_BUDGET, *WINNER_SCHEDULE, "--set", f"model.hidden={hidden}",
            "--set", f"model.dropout={dropout}", *extra]


def names_trial(architecture: str, dropout: float | None = None) -> list[str]:
    """The `zoo train` arguments of ``architecture`` on `names`, with ``dropout`` if given."""
    extra = [] if dropout is None else ["--set", f"model.dropout={dropout}"]
    return [architecture, *NAMES, *NAMES_MODELS[architecture], *extra]


#: search -> trial name -> `zoo train` arguments.
TRIALS: dict[str, dict[str, list[str]]] = {
    "default": {
        "the default": DEFAULT,
        "dropout 0": [*DEFAULT, "--set", "model.dropout=0"],
        "stateful": [*DEFAULT, "--stateful"],
        "stateful, dropout 0": [*DEFAULT, "--stateful", "--set", "model.dropout=0"],
        "stateful, dropout 0.05": [*DEFAULT, "--stateful", "--set", "model.dropout=0.05"],
        "lr 5e-3": [*DEFAULT, "--lr", "5e-3"],
        "lr 2e-3": [*DEFAULT, "--lr", "2e-3"],
        "dropout 0, lr 5e-3": [*DEFAULT, "--set", "model.dropout=0", "--lr", "5e-3"],
        "stateful, dropout 0, lr 5e-3": [*DEFAULT, "--stateful", "--set", "model.dropout=0",
                                         "--lr", "5e-3"],
        "stateful, dropout 0, lr 8e-3": [*DEFAULT, "--stateful", "--set", "model.dropout=0",
                                         "--lr", "8e-3"],
        "32 x 128 windows, dropout 0": [*DEFAULT, "--batch-size", "32", "--block-size", "128",
                                         "--set", "model.dropout=0"],
        "stateful, 32 x 128, dropout 0": [*DEFAULT, "--stateful", "--batch-size", "32",
                                           "--block-size", "128", "--set", "model.dropout=0"],
        "dropout 0, min_lr 3e-5": [*DEFAULT, "--set", "model.dropout=0",
                                   "--set", "train.min_lr=3e-5"],
        "stateful, dropout 0, min_lr 3e-5": [*DEFAULT, "--stateful", "--set", "model.dropout=0",
                                             "--set", "train.min_lr=3e-5"],
        "dropout 0, beta2 0.95": [*DEFAULT, "--set", "model.dropout=0",
                                  "--set", "train.beta2=0.95"],
        "dropout 0, no weight decay": [*DEFAULT, "--set", "model.dropout=0",
                                       "--set", "train.weight_decay=0"],
    },
    "ten-minutes": {
        "lstm (the benchmark's)": ["lstm", "--steps", "5177"],
        "lstm, stateful": ["lstm", "--steps", "5177", "--stateful"],
        "lstm, dropout 0.2": ["lstm", "--steps", "5177", "--set", "model.dropout=0.2"],
        "lstm, stateful, dropout 0.2": ["lstm", "--steps", "5177", "--stateful",
                                        "--set", "model.dropout=0.2"],
        "lstm, stateful, dropout 0": ["lstm", "--steps", "5177", "--stateful",
                                      "--set", "model.dropout=0"],
        "lstm, stateful, lr 5e-3": ["lstm", "--steps", "5177", "--stateful", "--lr", "5e-3"],
        "lstm, stateful, lr 2e-3": ["lstm", "--steps", "5177", "--stateful", "--lr", "2e-3"],
        "lstm, stateful, 32 x 128": ["lstm", "--steps", "5177", "--stateful",
                                     "--batch-size", "32", "--block-size", "128"],
        "gru (the benchmark's)": ["gru", "--steps", "3671"],
        "gru, stateful": ["gru", "--steps", "3671", "--stateful"],
        "gru-tied, stateful": ["gru-tied", "--steps", "3433", "--stateful"],
        "gru-tied, stateful, dropout 0": ["gru-tied", "--steps", "3433", "--stateful",
                                          "--set", "model.dropout=0"],
        "transformer (the benchmark's)": ["transformer", "--steps", "3441"],
        "transformer, dropout 0.1": ["transformer", "--steps", "3441",
                                     "--set", "model.dropout=0.1"],
    },
    "cpu": {
        "lstm 2 x 256, the winner's schedule, float32": lstm_trial(256, 0.1, *FLOAT32),
        "lstm 2 x 256, the same on 64 x 64 windows, float32": lstm_trial(
            256, 0.1, *FLOAT32, "--batch-size", "64", "--block-size", "64"),
        "lstm 2 x 384, dropout 0.2, its own schedule, float32": [
            "lstm", *CPU_BUDGET, "--set", "model.hidden=384", "--set", "model.dropout=0.2",
            *FLOAT32],
        "lstm 2 x 384, dropout 0.1, the winner's schedule": lstm_trial(384, 0.1),
        "lstm 2 x 512, dropout 0.2, the winner's schedule": lstm_trial(512, 0.2),
        "lstm 2 x 512, dropout 0.2, on 64 x 128 windows": lstm_trial(
            512, 0.2, "--batch-size", "64"),
        "lstm 2 x 512, dropout 0.3, the winner's schedule": lstm_trial(512, 0.3),
        "lstm 2 x 512, dropout 0.2, on 32 x 256 windows": lstm_trial(
            512, 0.2, "--block-size", "256"),
        "lstm 2 x 512, dropout 0.2, on 32 x 512 windows": lstm_trial(
            512, 0.2, "--block-size", "512"),
    },
    "names": {
        name: names_trial(*trial) for name, trial in {
            "rnn": ("rnn",), "rnn, dropout 0.2": ("rnn", 0.2),
            "gru": ("gru",), "gru, dropout 0.3": ("gru", 0.3),
            "lstm": ("lstm",), "lstm, dropout 0.3": ("lstm", 0.3),
            "gru-tied": ("gru-tied",), "gru-tied, dropout 0.2": ("gru-tied", 0.2),
            "gru-tied, dropout 0.3": ("gru-tied", 0.3),
            "transformer": ("transformer",), "transformer, dropout 0.1": ("transformer", 0.1),
            "transformer, dropout 0.2": ("transformer", 0.2),
            "mlp, context 3": ("mlp",),
        }.items()
    } | {
        "mlp, context 5, dropout 0.2": ["mlp", *NAMES, "--steps", "28083",
                                        "--set", "model.context=5", "--set", "model.embed=64",
                                        "--set", "model.hidden=256",
                                        "--set", "model.dropout=0.2"],
    },
}


def slug(search: str, trial: str) -> str:
    return f"{search}--" + "".join(c if c.isalnum() else "-" for c in trial)


def run_trial(search: str, trial: str, arguments: list[str], out: Path) -> dict:
    """Train one trial; its last validation loss (and novelty, for names)."""
    run = out / slug(search, trial)
    command = [sys.executable, "-m", "zoo", "train", *arguments, "--out", str(run),
               "--no-progress"]
    with open(f"{run}.log", "w") as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        return {"search": search, "trial": trial, "error": f"exit {code}, see {run}.log"}
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    last = [r for r in records if r["split"] == "val"][-1]
    result = {"search": search, "trial": trial, "arguments": arguments,
              "val_loss": round(last["loss"], 4), "bits_per_char": round(last["bits_per_char"], 4)}
    if search == "cpu":  # every validation character, as `zoo eval` counts
        result.update(score_run(run))
    if search == "names":
        import zoo

        loaded = zoo.load(run)
        found = loaded.novelty(loaded.sample(num_samples=1000, temperature=1.0, seed=0,
                                             max_new_tokens=32))
        result["new"] = round(found.new / found.samples, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="*", choices=list(TRIALS),
                        default=["default", "ten-minutes", "names"])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--trial", nargs="*", help="only the trials of these names")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    chosen = [(s, t, a) for s in options.only for t, a in TRIALS[s].items()
              if not options.trial or t in options.trial]
    unknown = set(options.trial or ()) - {t for _, t, _ in chosen}
    if unknown:
        parser.error(f"no trial {sorted(unknown)} in {options.only}")
    found = options.out / "search.jsonl"  # one line per finished trial, as each finishes

    def trial(choice: tuple[str, str, list[str]]) -> None:
        result = run_trial(*choice, options.out)
        line = json.dumps(result)
        print(line, flush=True)
        with open(found, "a") as handle:
            handle.write(line + "\n")

    cpu_trials = [c for c in chosen if c[0] == "cpu"]
    with ThreadPoolExecutor(options.jobs) as pool:
        list(pool.map(trial, [c for c in chosen if c[0] != "cpu"]))
    for choice in cpu_trials:  # timed: one at a time, after the others
        trial(choice)


if __name__ == "__main__":
    main()
