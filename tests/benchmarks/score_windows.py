"""Finished runs scored in windows of several lengths, and read whole: how much of a loss
is the scoring window's context rather than the model.

`zoo eval` cuts the validation text into windows of the run's training block size, each
scored from a fresh state, so a token early in a window is predicted from little context
and a run trained on longer windows is also scored in longer ones. This scores every run
in the same windows (`zoo eval --block-size N`) and over the whole text with the state
carried from start to end (`run.score`, as sampling reads it), so runs trained on windows
of different lengths compare like with like (docs/benchmarks.md, the CPU trials).

Usage: python tests/benchmarks/score_windows.py RUN... [--windows 128 256 512]
"""

from __future__ import annotations

import argparse
import json

import zoo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--windows", nargs="+", type=int, default=[128, 256, 512])
    options = parser.parse_args()
    for path in options.runs:
        run = zoo.load(path)
        row = {"run": path, "trained_on": run.config.train.block_size, "steps": run.step}
        for window in options.windows:
            row[f"windows_of_{window}"] = round(
                run.evaluate(block_size=window, progress=False)["loss"], 4)
        row["whole_text"] = round(run.score(run.documents("val")).nats_per_token, 4)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
