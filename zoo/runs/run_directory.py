"""The run directory: self-describing, loadable without pickle, written atomically.

    runs/NAME/
      config.json         the four config sections, vocab size, zoo version, and
                          "providers": the plugin, distribution and version that
                          provided the model, tokenizer and dataset
      model.safetensors   the latest checkpoint's weights (metadata: step)
      tokenizer/          whatever the tokenizer's save() writes
      metrics.jsonl       one JSON object per logged step or evaluation
      resume.safetensors  weights, optimizer and random state for --resume (zoo.training.resume)
      MODEL.md            a pretrained model's card (zoo.runs.pretrained): how it was made

When a run's component is no longer installed, loading it fails with one line
naming the package that provided it (runs written before zoo recorded
providers load as before, with the plain error).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from zoo.config.run import RunConfig
from zoo.config.sections import COMPONENT_SECTIONS, SECTIONS
from zoo.errors import ZooError
from zoo.files import atomic
from zoo.files.paths import plan_new_directory
from zoo.files.reading import (
    damaged,
    load_tokenizer_files,
    read_json,
    reading,
    require_keys,
    short_reason,
)
from zoo.registry.contracts import Tokenizer
from zoo.registry.factory import build_tokenizer
from zoo.registry.host import Registry
from zoo.version import __version__

CONFIG_FILE = "config.json"
PROVIDERS_KEY = "providers"
MODEL_FILE = "model.safetensors"
TOKENIZER_DIR = "tokenizer"
METRICS_FILE = "metrics.jsonl"
CARD_FILE = "MODEL.md"  # the model card a published (pretrained) run carries
RESUME_FILE = "resume.safetensors"  # written and read by zoo.training.resume
FORMAT_VERSION = 1


def plan_run_directory(out: str | Path | None, architecture: str) -> Path:
    """Where a new run goes (default ``runs/ARCH-TIMESTAMP``); never a non-empty directory.

    Nothing is created here: training stages the run in a temporary sibling
    (:func:`zoo.files.paths.stage_new_directory`), which takes this name only at the
    first checkpoint, so a run that fails or is killed before then leaves
    nothing behind. A default name that is taken by then gets a ``-2``, ``-3``
    suffix (``train_run(numbered=True)``).
    """
    if out is None:  # numbered when it is taken, so never refused
        return Path("runs") / f"{architecture}-{time.strftime('%Y%m%d-%H%M%S')}"
    return plan_new_directory(out, "run directory")


def write_run_files(
    run_dir: Path,
    run_config: RunConfig,
    tokenizer: Tokenizer,
    *,
    registry: Registry | None = None,
    resume: bool = False,
) -> None:
    """Write ``config.json`` and ``tokenizer/`` into ``run_dir`` (each atomic).

    For a new run ``run_dir`` is the staged directory; a resumed run has its
    tokenizer already, and only its config is written again.
    """
    if not resume:
        run_dir.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_directory(run_dir / TOKENIZER_DIR) as temp:
            tokenizer.save(temp)
    write_config(run_dir, run_config, tokenizer.vocab_size, registry=registry)


def component_providers(registry: Registry, run_config: RunConfig) -> dict[str, dict[str, str]]:
    """Section -> the record of the plugin that provides its component (see ``Provider.record``)."""
    records = {}
    for section, kind in COMPONENT_SECTIONS.items():
        provider = registry.provider_of(kind, getattr(run_config, section).name)
        if provider is not None:
            records[section] = provider.record()
    return records


def recorded_providers(raw: dict[str, Any]) -> dict[str, Any]:
    """The ``providers`` a run's raw ``config.json`` recorded; empty for older runs."""
    providers = raw.get(PROVIDERS_KEY)
    return providers if isinstance(providers, dict) else {}


def write_config(
    run_dir: Path, run_config: RunConfig, vocab_size: int, *, registry: Registry | None = None
) -> None:
    """Write ``config.json`` atomically.

    With ``registry``, it records which plugin provides each component; without
    one, it keeps the providers an existing ``config.json`` recorded.
    """
    path = run_dir / CONFIG_FILE
    if registry is not None:
        providers = component_providers(registry, run_config)
    else:
        providers = recorded_providers(read_config(run_dir)) if path.exists() else {}
    payload = {
        "format_version": FORMAT_VERSION,
        "zoo_version": __version__,
        "vocab_size": vocab_size,
        **run_config.to_dict(),
    }
    if providers:
        payload[PROVIDERS_KEY] = providers
    atomic.write_text(path, json.dumps(payload, indent=2) + "\n")


def append_metrics(run_dir: Path, record: dict[str, Any]) -> None:
    atomic.append_line(run_dir / METRICS_FILE, json.dumps(record))


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The records of ``metrics.jsonl``; a torn last line (a kill mid-append) is dropped.

    A damaged line anywhere else is a ZooError naming the file and the line.
    """
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        return []
    with reading(path, "the metrics log", "restore it from a copy"):
        lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError as error:
            if number == len(lines):  # torn by a kill while appending: the step is logged again
                break
            raise damaged(path, "the metrics log", f"delete line {number} or restore it from "
                          "a copy", short_reason(error)) from None
        if not isinstance(record, dict) or not isinstance(record.get("step"), int):
            raise damaged(path, "the metrics log", f"delete line {number} or restore it from "
                          "a copy", f"line {number} is not a record with a step")
        records.append(record)
    return records


def read_config(run_dir: Path) -> dict[str, Any]:
    """The raw ``config.json`` of a run, or a ZooError saying why it is not a run."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ZooError(f"run directory {str(run_dir)!r} does not exist; train one with `zoo train`")
    path = run_dir / CONFIG_FILE
    if not path.exists():
        raise ZooError(f"{str(run_dir)!r} is not a zoo run: it has no {CONFIG_FILE}")
    recovery = "restore it from a copy or re-train the run"
    data: dict[str, Any] = read_json(path, "the run config", recovery)
    require_keys(data, {"vocab_size": int, **{s: dict for s in SECTIONS}}, path,
                 "the run config", recovery)
    require_keys(data["model"], {"name": str}, path, "the run config", recovery)
    if data["vocab_size"] < 1 or not isinstance(data.get("format_version", 0), int):
        raise damaged(path, "the run config", recovery, "bad vocab_size or format_version")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise ZooError(
            f"{str(run_dir)!r} was written by a newer zoo ({data.get('zoo_version')}); "
            "upgrade zoo-lm"
        )
    return data


def check_components_installed(registry: Registry, raw: dict[str, Any]) -> None:
    """Raise a ZooError naming the package to install if a run's component is missing."""
    recorded = recorded_providers(raw)
    for section, kind in COMPONENT_SECTIONS.items():
        values = raw.get(section)
        name = values.get("name") if isinstance(values, dict) else None
        if isinstance(name, str):
            registry.get_recorded(kind, name, recorded.get(section), "this run")


def load_tokenizer(registry: Registry, run_dir: Path, run_config: RunConfig) -> Tokenizer:
    """The run's tokenizer from ``tokenizer/``, or a ZooError naming what is damaged."""
    tokenizer = build_tokenizer(registry, run_config.tokenizer)
    load_tokenizer_files(tokenizer, Path(run_dir) / TOKENIZER_DIR, "the tokenizer of the run",
                         "restore the run's tokenizer/ from a copy or re-train the run")
    return tokenizer
