"""Publish a trained run as a pretrained model: the read-only run directory a pretrained plugin
package ships, with weights at a chosen precision, the loss measured on those weights, and its
model card (``MODEL.md``).

Used by ``zoo plugin new NAME --kind pretrained --from RUN`` and by the script that builds
zoo's own package (``plugins/pretrained/build.py``). The card says how the model was made
(command, config, zoo version, date, hardware, wall time), how good it is (``zoo eval`` over
the whole validation split, and for datasets of many documents the share of new samples),
the licence of its training text, and three samples with their seeds.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import tomli_w

from zoo.api.run import Run
from zoo.errors import ZooError
from zoo.files import atomic
from zoo.registry.factory import build_dataset
from zoo.registry.host import PRETRAINED_NAME, Registry, default_registry
from zoo.runs.pretrained import index_entry
from zoo.runs.run_directory import (
    CARD_FILE,
    CONFIG_FILE,
    METRICS_FILE,
    MODEL_FILE,
    TOKENIZER_DIR,
    append_metrics,
)
from zoo.version import __version__

#: Weight precisions a pretrained model may ship in; half precision halves the download.
WEIGHT_DTYPES = ("float16", "bfloat16", "float32")
#: The seeds of the card's three samples (temperature 0.8).
SAMPLE_SEEDS = (1, 2, 3)
SAMPLE_TEMPERATURE = 0.8
SAMPLE_TOKENS = 300
#: makemore's novelty figure: this many samples at temperature 1.0.
NOVELTY_SAMPLES = 1000


def publish_run(run_dir: str | Path, target: str | Path, *, name: str, summary: str,
                command: Sequence[str] | None = None, machine: Mapping[str, str] | None = None,
                dtype: str = "float16", registry: Registry | None = None,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """Write the pretrained model ``name`` made from the run in ``run_dir`` into ``target``
    (a new directory, made whole or not at all); return its index entry
    (``{"summary", "sha256"}``, as :func:`zoo.runs.pretrained.register_index` reads it).

    ``command`` is the ``zoo train`` command that trained the run, if known;
    ``machine`` says what it ran on (``{"hardware", "torch", "date"}``).
    """
    import torch
    from safetensors.torch import save_file

    from zoo.models.loading import checkpoint_tensors

    registry = registry or default_registry()
    if not PRETRAINED_NAME.match(name):
        raise ZooError(f"pretrained name {name!r} is not valid: use ARCHITECTURE/DATASET with an "
                       "optional -VARIANT in lowercase (e.g. 'gru-tied/tinyshakespeare')")
    if dtype not in WEIGHT_DTYPES:
        raise ZooError(f"weights dtype {dtype!r} is not one of {', '.join(WEIGHT_DTYPES)}")
    source = Run(Path(run_dir), registry)
    source.model  # noqa: B018 (loads the run now, so that a damaged one is named first)
    target = Path(target)
    with atomic.atomic_directory(target) as staged:
        shutil.copy2(source.directory / CONFIG_FILE, staged / CONFIG_FILE)
        shutil.copy2(source.directory / METRICS_FILE, staged / METRICS_FILE)
        shutil.copytree(source.directory / TOKENIZER_DIR, staged / TOKENIZER_DIR)
        weights = {key: value.to(getattr(torch, dtype)) if value.is_floating_point() else value
                   for key, value in checkpoint_tensors(source.model).items()}
        save_file(weights, str(staged / MODEL_FILE),
                  metadata={"step": str(source.step), "zoo_version": __version__,
                            "weights": dtype})
        shipped = Run(staged, registry)
        log(f"{name}: evaluating the {dtype} weights on the whole validation split")
        evaluation = shipped.evaluate(progress=False)
        append_metrics(staged, {
            "step": shipped.step, "split": "val", "weights": dtype,
            **{key: evaluation[key] for key in ("loss", "perplexity", "bits_per_char",
                                                "bits_per_byte", "accuracy", "tokens")}})
        card = model_card(shipped, name=name, summary=summary, evaluation=evaluation,
                          command=command, machine=machine, dtype=dtype,
                          trained_seconds=source.training.seconds if source.training else None)
        (staged / CARD_FILE).write_text(card, "utf-8")
    log(f"{name}: val loss {evaluation['loss']:.4f} ({dtype} weights), "
        f"written to {atomic.final_path(str(target))}")
    return index_entry(target, summary)


def write_index(index_file: str | Path, entries: Mapping[str, Any], *, keep: bool) -> None:
    """Write a pretrained package's ``models.json`` atomically; with ``keep``, models already
    listed and not in ``entries`` stay."""
    index_file = Path(index_file)
    index = json.loads(index_file.read_text("utf-8")) if keep and index_file.exists() else {}
    index.update(entries)
    atomic.write_text(index_file, json.dumps(index, indent=2, sort_keys=True) + "\n")


def novelty_line(run: Run, dataset: Any) -> str | None:
    """The share of new samples, for a dataset (the run's) of many documents (names, lines);
    else None."""
    if len(dataset.texts("train")) < 2:
        return None  # one long text: a sample is never a whole document of it
    texts = run.sample(num_samples=NOVELTY_SAMPLES, temperature=1.0, seed=0, max_new_tokens=100)
    found = run.novelty(texts)
    return (f"{found.new / found.samples:.1%} of {found.samples:,} samples (temperature 1.0, "
            f"seed 0) are new: {found.in_train / found.samples:.1%} are training documents, "
            f"{found.in_val / found.samples:.1%} validation documents")


def _config_toml(run: Run) -> str:
    """The run's four config sections as a ``zoo train --config`` file (unset values left out)."""
    sections = {section: {key: value for key, value in values.items() if value is not None}
                for section, values in run.config.to_dict().items()}
    return tomli_w.dumps(sections)


def model_card(run: Run, *, name: str, summary: str, evaluation: Mapping[str, Any],
               command: Sequence[str] | None, machine: Mapping[str, str] | None, dtype: str,
               trained_seconds: float | None) -> str:
    """The text of ``MODEL.md`` for the published ``run``."""
    dataset = build_dataset(run._registry, run.config.dataset)
    licence = getattr(dataset, "licence", None) or (
        "not stated by the dataset: name the licence of the training text here")
    machine = machine or {}
    architecture = run.architecture
    how = (f"`{' '.join(command)}`" if command else
           f"not recorded; this config reproduces it: `zoo train {architecture} "
           "--config run.toml` with the block below saved as `run.toml`")
    lines = [
        f"# {name}", "", summary, "",
        "```bash", f"zoo sample {name}", f"zoo train {architecture} --init-from {name} "
        "--data yours.txt   # fine-tune it on your text", "```", "",
        "## Quality", "",
        f"- val loss **{evaluation['loss']:.4f}** nats/token, "
        f"**{evaluation['bits_per_char']:.4f}** bits/char: `zoo eval {name}` over all "
        f"{evaluation['tokens']:,} predicted tokens of the validation split, on the shipped "
        f"{dtype} weights",
        f"- parameters: {run.parameters:,}; step {run.step:,}; tokenizer "
        f"`{run.config.tokenizer.name}` (vocabulary {run.vocab_size:,})",
    ]
    novelty = novelty_line(run, dataset)
    if novelty:
        lines.append(f"- novelty: {novelty}")
    lines += [
        "", "## How it was made", "",
        f"- command: {how}",
        f"- zoo {__version__}, {machine.get('date') or time.strftime('%Y-%m-%d')}",
        f"- hardware: {machine.get('hardware', 'not recorded')}"
        + (f", torch {machine['torch']}" if machine.get("torch") else ""),
        "- wall time: " + (f"{trained_seconds:.0f} s of training" if trained_seconds else
                           "not recorded"),
        f"- weights: {dtype} (trained in float32)",
        "", "Config (`config.json` in this directory holds the same):", "",
        "```toml", _config_toml(run).rstrip(), "```", "",
        "## Training text", "",
        f"`{run.config.dataset.name}`: {licence}", "",
        f"## Samples (temperature {SAMPLE_TEMPERATURE})", "",
    ]
    for seed in SAMPLE_SEEDS:
        [text] = run.sample(max_new_tokens=SAMPLE_TOKENS, temperature=SAMPLE_TEMPERATURE,
                            seed=seed)
        lines += [f"`zoo sample {name} --seed {seed} --max-new-tokens {SAMPLE_TOKENS}`:", "",
                  "```text", text.rstrip("\n"), "```", ""]
    return "\n".join(lines)
