"""A run's model: its weights saved to ``model.safetensors`` and loaded back (no pickle), with
the tokenizer and config, as a :class:`LoadedRun` ready to evaluate, sample or export.

The files themselves are :mod:`zoo.runs.run_directory`'s; this is where torch comes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_model, save_file

from zoo.config.run import RunConfig
from zoo.config.threads import cpu_threads
from zoo.errors import ZooError
from zoo.files import atomic
from zoo.files.reading import (
    load_tokenizer_files,
    reading,
)
from zoo.models.fitting import file_shapes, first_misfit, model_shapes
from zoo.registry.contracts import Tokenizer
from zoo.registry.factory import build_model, build_tokenizer
from zoo.registry.host import Registry
from zoo.runs.run_directory import (
    CONFIG_FILE,
    MODEL_FILE,
    RESUME_FILE,
    TOKENIZER_DIR,
    check_components_installed,
    read_config,
)
from zoo.version import __version__


def save_checkpoint(run_dir: Path, model: Any, step: int) -> None:
    """Replace ``model.safetensors`` atomically with the model's current weights.

    A full disk leaves the last checkpoint as it was and raises an OSError
    naming the file (:func:`zoo.files.atomic.write_failure`).
    """
    metadata = {"step": str(step), "zoo_version": __version__}
    with atomic.atomic_path(run_dir / MODEL_FILE) as temp:
        save_file(checkpoint_tensors(model), str(temp), metadata=metadata)


def checkpoint_tensors(model: Any) -> dict[str, torch.Tensor]:
    """The model's weights as ``model.safetensors`` stores them: each copied to the CPU into
    storage of its own, and a tied weight (one tensor under two names) stored once.

    On a GPU, cuDNN packs an RNN's weights into one flat buffer; safetensors refuses
    tensors that share a storage they do not cover, so each weight is copied out.
    Loading (``load_model``) fills a tied weight's other name from the one stored.
    """
    tensors: dict[str, torch.Tensor] = {}
    seen = set()
    for name, tensor in model.state_dict().items():
        view = (tensor.device, tensor.data_ptr(), tensor.dtype, tuple(tensor.shape),
                tensor.stride())
        if tensor.numel() and view in seen:
            continue  # the same tensor under a second name: a tied weight
        seen.add(view)
        tensors[name] = tensor.detach().to("cpu", copy=True).contiguous()
    return tensors


@dataclass
class LoadedRun:
    """A trained run, ready to evaluate, sample or export."""

    directory: Path
    config: RunConfig
    vocab_size: int
    model: Any  # torch.nn.Module in eval mode
    tokenizer: Tokenizer
    step: int
    registry: Registry | None = None  # what it was loaded through; exports name providers by it


def load_run(registry: Registry, run_dir: str | Path, device: str = "cpu") -> LoadedRun:
    """Rebuild the model and tokenizer of a run from its files (no pickle involved)."""
    run_dir = Path(run_dir)
    raw = read_config(run_dir)
    check_components_installed(registry, raw)
    try:
        run_config = RunConfig.from_dict(registry, raw)
    except ZooError as error:
        raise ZooError(f"{run_dir / CONFIG_FILE}: {error}; fix it or restore it from a copy"
                       ) from None
    weights = run_dir / MODEL_FILE
    if not weights.exists():
        raise ZooError(
            f"run {str(run_dir)!r} has no checkpoint yet ({MODEL_FILE}); "
            "it is saved at each evaluation"
        )
    vocab_size = int(raw["vocab_size"])
    tokenizer = build_tokenizer(registry, run_config.tokenizer)
    load_tokenizer_files(tokenizer, run_dir / TOKENIZER_DIR, "the tokenizer of the run",
                         "restore the run's tokenizer/ from a copy or re-train the run",
                         vocab_size)
    model = build_model(registry, run_config.model, vocab_size)
    recovery = (f"restore it from a copy, or re-train (`zoo train --resume {run_dir}` "
                f"continues from {RESUME_FILE} if that is intact)")
    with reading(weights, "the checkpoint", recovery):
        misfit = first_misfit(model_shapes(model), file_shapes(weights), MODEL_FILE,
                              every_name=False)  # tied weights are stored once
    if misfit is not None:
        raise ZooError(f"run {str(run_dir)!r}: {MODEL_FILE} does not fit the model {CONFIG_FILE} "
                       f"describes ({misfit}); restore the run's {CONFIG_FILE} and {MODEL_FILE} "
                       "from a copy, or re-train")
    with reading(weights, "the checkpoint", recovery):
        # strict: weights of a differently sized model are refused, not half-loaded
        load_model(model, str(weights), strict=True, device=device)
        if not all(bool(torch.isfinite(t).all()) for t in model.state_dict().values()
                   if t.is_floating_point()):
            raise ValueError("it holds NaN or infinite weights")
        with safe_open(str(weights), framework="pt") as handle:
            step = int((handle.metadata() or {}).get("step", 0))
    model.to(device).eval()
    threads = cpu_threads()  # zoo sample --threads
    if threads is not None:
        torch.set_num_threads(threads)
    return LoadedRun(run_dir, run_config, vocab_size, model, tokenizer, step, registry)
