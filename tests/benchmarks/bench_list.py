"""Benchmark: `zoo list` wall time with 20 extra plugin distributions installed.

A fresh virtual environment gets zoo's wheel; `zoo list` is timed there as a
user runs it (a new process each time, median of several runs). Then 20
plugin packages made by `zoo plugin new` (7 architectures, 7 tokenizers,
6 datasets), each its own distribution with its own entry point, are built
and pip-installed into the same environment, and `zoo list` is timed again.
Target: under 0.5 s with the 20 plugins.

Usage: python tests/benchmarks/bench_list.py [--plugins 20] [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, save

sys.path.insert(0, str(REPO / "tests"))
from plugin_environment import PluginEnvironment  # noqa: E402

KINDS = ["architecture", "tokenizer", "dataset"]


def time_list(env: PluginEnvironment, runs: int) -> list[float]:
    """Wall seconds of `zoo list`, one fresh process per run (the first run is a warm-up)."""
    seconds = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        subprocess.run([str(env.bin / "zoo"), "list"], check=True, capture_output=True)
        seconds.append(time.perf_counter() - started)
    return seconds[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=20)
    parser.add_argument("--runs", type=int, default=9)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        env = PluginEnvironment(Path(scratch) / "env")
        alone = time_list(env, options.runs)
        packages = []
        for index in range(options.plugins):
            name = f"extra{index:02d}"
            out = Path(scratch) / "packages" / name
            env.run("zoo", "plugin", "new", name, "--kind", KINDS[index % len(KINDS)],
                    "--out", str(out))
            packages.append(out)
        env.install(*packages)
        listed = json.loads(env.run("zoo", "list", "--json"))
        extra = [c for c in listed["components"] if c["distribution"].startswith("zoo-extra")]
        assert len(extra) == options.plugins and not listed["broken"], listed["broken"]
        with_plugins = time_list(env, options.runs)

    results = {
        "extra_distributions": options.plugins,
        "components_listed": len(listed["components"]),
        "builtins_only_s": round(statistics.median(alone), 3),
        "with_plugins_s": round(statistics.median(with_plugins), 3),
        "with_plugins_max_s": round(max(with_plugins), 3),
        "runs": options.runs,
    }
    print(results)
    print(f"saved {save('list', results)}")


if __name__ == "__main__":
    main()
