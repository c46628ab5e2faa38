"""Helpers shared by the benchmark scripts: the corpus as a file, running zoo, saving numbers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from zoo_plugins.datasets.tinyshakespeare import packaged_text

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench-results"


def _tiny_shakespeare_file() -> Path:
    """The standard corpus as a file, written from zoo's packaged (sha256-checked) copy."""
    path = RESULTS / "tinyshakespeare.txt"
    if not path.exists():
        RESULTS.mkdir(exist_ok=True)
        path.write_text(packaged_text(), "utf-8")
    return path


TINY_SHAKESPEARE = _tiny_shakespeare_file()


def zoo(*args: str) -> float:
    """Run a zoo command in a subprocess; return its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "zoo", *args], check=True)
    return time.perf_counter() - started


def zoo_json(*args: str) -> Any:
    output = subprocess.run([sys.executable, "-m", "zoo", *args], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output)


def save(name: str, results: Any) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def score_run(run: Path) -> dict:
    """A finished Tiny Shakespeare run's `zoo eval` figures over every validation character,
    its steps and its median training tokens/s."""
    report = zoo_json("eval", str(run), "--json")
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    speeds = sorted(r["tokens_per_s"] for r in records if r["split"] == "train")
    return {
        "val_loss": round(report["loss"], 4),
        "bits_per_char": round(report["bits_per_char"], 4),
        "parameters": report["parameters"],
        "steps": report["step"],
        "train_tokens_per_s": round(speeds[len(speeds) // 2]),
    }
