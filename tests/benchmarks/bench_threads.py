"""Benchmark: how many CPU threads to train and sample with, on an idle and on a busy machine.

For gru-tied (the default 2 x 256) and the transformer (the default 4 x 128), one process
alternates over rounds (median), each measurement a `zoo.train` of `--seconds` with a time
budget and no step limit, read back as training tokens/s (the run's median window):

- threads 1, 2, ... up to the CPU count, with the machine otherwise idle;
- the same while `--busy` other processes (default: one per CPU) spin on the cores, as on
  a shared machine or beside another job.

Then onnxruntime's sampler on gru-tied's export, tokens/s for 1 and all threads, idle and
busy. Run it alone: anything else running is contention it does not control.

Usage: python tests/benchmarks/bench_threads.py [--seconds 20] [--rounds 2] [--busy N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import save

import zoo
from zoo.config.threads import set_cpu_threads
from zoo.registry.host import default_registry
from zoo.sampling.loop import SamplingSettings
from zoo_exports.onnx_sampler import generate

MODELS = {"gru-tied": {}, "transformer": {}}


@contextlib.contextmanager
def busy(processes: int):
    """``processes`` other programs spinning on the CPU while the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(processes)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def competing(condition: str, processes: int) -> contextlib.AbstractContextManager[None]:
    """Spinning processes for a ``"busy"`` measurement, nothing for an ``"idle"`` one."""
    return busy(processes) if condition == "busy" else contextlib.nullcontext()


def train_rate(name: str, threads: int, seconds: float, scratch: Path) -> float:
    out = scratch / f"{name}-{threads}-{time.monotonic_ns()}"
    run = zoo.train(name, out=out, progress=False, max_seconds=seconds, threads=threads,
                    log=lambda line: None, **{"train.eval_interval": 1_000_000,
                                              "train.log_interval": 5})
    speeds = [m["tokens_per_s"] for m in run.metrics if m["split"] == "train"]
    return statistics.median(speeds) if speeds else 0.0


def sample_rate(export: Path, threads: int, tokens: int) -> float:
    set_cpu_threads(threads)
    started = time.perf_counter()
    generate(default_registry(), export, prompt="ROMEO:", max_new_tokens=tokens,
             settings=SamplingSettings(temperature=0.8), seed=1, ignore_end_of_text=True)
    return tokens / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="each training measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2,
                        help="spinning processes in the busy measurements")
    parser.add_argument("--tokens", type=int, default=2000, help="tokens per sampling round")
    options = parser.parse_args()
    counts = list(range(1, (os.cpu_count() or 2) + 1))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        for name in MODELS:
            for condition in ("idle", "busy"):
                rates: dict[int, list[float]] = {n: [] for n in counts}
                for _ in range(options.rounds):
                    for threads in counts:
                        with competing(condition, options.busy):
                            rates[threads].append(
                                train_rate(name, threads, options.seconds, scratch))
                results[f"train {name} {condition}"] = {
                    f"{n} threads": round(statistics.median(r)) for n, r in rates.items()}
                print(f"train {name:12} {condition:5}",
                      results[f"train {name} {condition}"], "tokens/s", flush=True)
        run = zoo.train("gru-tied", out=scratch / "export-source", progress=False, steps=20,
                        log=lambda line: None)
        export = run.export(scratch / "onnx", log=lambda line: None).directory
        for condition in ("idle", "busy"):
            rates = {n: [] for n in (1, counts[-1])}
            for _ in range(options.rounds):
                for threads in rates:
                    with competing(condition, options.busy):
                        rates[threads].append(sample_rate(export, threads, options.tokens))
            results[f"sample onnx gru-tied {condition}"] = {
                f"{n} threads": round(statistics.median(r)) for n, r in rates.items()}
            print(f"sample onnx gru-tied {condition:5}",
                  results[f"sample onnx gru-tied {condition}"], "tokens/s", flush=True)
    print(f"saved {save('threads', {'seconds': options.seconds, 'busy': options.busy, **results})}")


if __name__ == "__main__":
    main()
