"""Make, publish and check the models of zoo-lm-pretrained from their recipes (recipes.toml).

    python plugins/pretrained/build.py train --out SCRATCH [--only NAME ...] [--jobs N]
        train every recipe into SCRATCH/ARCH/DATASET (one `zoo train` process per model)
    python plugins/pretrained/build.py publish --runs SCRATCH [--only NAME ...]
        turn the trained runs into the package's models: half-precision weights, the
        val loss measured on them, a model card, and each file's sha256 in models.json
    python plugins/pretrained/build.py check --out SCRATCH [--only NAME ...]
        retrain into SCRATCH and print each model's val loss beside the shipped one
        (what `nox -s pretrained` runs)

A developer tool: it is not part of the package it builds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
RECIPES = HERE / "recipes.toml"
PACKAGE = HERE / "zoo_pretrained"


def recipes(only: list[str] | None = None) -> list[dict]:
    """The recipes of recipes.toml, in its order (only the named ones, if given)."""
    models = tomllib.loads(RECIPES.read_text("utf-8"))["model"]
    unknown = set(only or ()) - {m["name"] for m in models}
    if unknown:
        sys.exit(f"error: no recipe {', '.join(sorted(unknown))}; see {RECIPES}")
    return [m for m in models if not only or m["name"] in only]


def train_one(recipe: dict, out: Path) -> tuple[str, float, int]:
    """Run the recipe's `zoo train` into out/NAME; (name, wall seconds, exit code)."""
    run = out / recipe["name"]
    run.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "zoo", "train", *recipe["train"], "--out", str(run),
               "--no-progress"]
    start = time.perf_counter()
    with open(out / (recipe["name"].replace("/", "--") + ".log"), "w") as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
    return recipe["name"], time.perf_counter() - start, code


def describe_hardware() -> dict:
    """What the models train on, for their cards: the accelerator or CPU, and torch."""
    import platform

    import torch

    if torch.cuda.is_available():
        device = f"one {torch.cuda.get_device_name(0)} GPU"
    else:
        device = f"{os.cpu_count()} CPU cores ({platform.machine()})"
    return {"hardware": device, "torch": torch.__version__, "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d")}


def train(options: argparse.Namespace) -> None:
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = recipes(options.only)
    (out / "hardware.json").write_text(json.dumps(describe_hardware(), indent=2) + "\n")
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        for name, wall, code in pool.map(lambda r: train_one(r, out), chosen):
            print(f"{name:32} {'ok' if code == 0 else f'FAILED ({code})':12} {wall:7.1f} s",
                  flush=True)


def publish(options: argparse.Namespace) -> None:
    from zoo.api.publishing import publish_run, write_index

    machine = json.loads((Path(options.runs) / "hardware.json").read_text("utf-8"))
    index = {}
    for recipe in recipes(options.only):
        target = PACKAGE / "models" / recipe["name"]
        if target.exists():  # the model of an earlier build (git has it)
            shutil.rmtree(target)
        entry = publish_run(Path(options.runs) / recipe["name"], target, name=recipe["name"],
                            summary=recipe["summary"],
                            command=["zoo", "train", *recipe["train"]],
                            machine=machine, log=print)
        index[recipe["name"]] = entry
    write_index(PACKAGE / "models.json", index, keep=bool(options.only))  # --only: the rest stay
    write_readme()


def write_readme() -> None:
    """README.md: what the package is, and a table of its models from their files."""
    import zoo

    rows = ["| model | parameters | val loss (nats/token) | bits/char | size |",
            "|---|---|---|---|---|"]
    for m in zoo.pretrained():
        rows.append(f"| `{m['name']}` | {m['parameters']:,} | {m['val_loss']:.4f} | "
                    f"{m['bits_per_char']:.3f} | {m['size_bytes'] / 1e6:.1f} MB |")
    text = (HERE / "README.md").read_text("utf-8")
    start, end = "<!-- models -->", "<!-- /models -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    (HERE / "README.md").write_text(f"{head}{start}\n{chr(10).join(rows)}\n{end}{tail}", "utf-8")


def check(options: argparse.Namespace) -> None:
    import zoo

    train(options)
    shipped = {m["name"]: m for m in zoo.pretrained()}  # the installed package's, as listed
    print(f"{'model':32} {'shipped val loss':>16} {'retrained':>10} {'difference':>10}")
    for recipe in recipes(options.only):
        run = zoo.load(Path(options.out) / recipe["name"])
        loss = run.evaluate(progress=False)["loss"]
        was = shipped[recipe["name"]]["val_loss"]  # measured on the shipped float16 weights
        print(f"{recipe['name']:32} {was:16.4f} {loss:10.4f} {loss - was:+10.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("train", "check"):
        command = commands.add_parser(name)
        command.add_argument("--out", required=True, help="scratch folder for the runs")
        command.add_argument("--only", nargs="*", help="model names (default: every recipe)")
        command.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                             help="models trained at once")
    command = commands.add_parser("publish")
    command.add_argument("--runs", required=True, help="the folder `train --out` wrote")
    command.add_argument("--only", nargs="*", help="model names (default: every recipe)")
    options = parser.parse_args()
    {"train": train, "publish": publish, "check": check}[options.command](options)


if __name__ == "__main__":
    main()
