"""The resume state of a run: everything ``--resume`` needs to continue exactly.

One file, ``resume.safetensors``, written atomically at every checkpoint, so
the model, the optimizer and the random generators in it always belong to
the same step:

    model.*          the weights
    optimizer.I.K    tensor K (exp_avg, exp_avg_sq, step) of parameter I
    rng.torch        torch's CPU generator state; rng.cuda.N for each GPU
    carry.I          the hidden state carried across batches (--stateful)

and, in the metadata, as JSON: the step, the optimizer's param groups and the
batch sampler's state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from zoo import __version__, atomic

RESUME_FILE = "resume.safetensors"


@dataclass
class ResumeState:
    """What was read back from ``resume.safetensors``."""

    step: int
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    sampler: dict[str, Any]
    torch_rng: torch.Tensor
    cuda_rng: list[torch.Tensor] = field(default_factory=list)
    carry: tuple[torch.Tensor, ...] | None = None


def save_resume_state(
    run_dir: Path,
    *,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    sampler: dict[str, Any],
    carry: tuple[torch.Tensor, ...] | None,
) -> None:
    from safetensors.torch import save_file

    # Cloned, so that tied weights become separate entries safetensors accepts; loading
    # both names writes the same values into the one shared parameter.
    tensors = {f"model.{name}": t.detach().clone() for name, t in model.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    for index, values in optimizer_state["state"].items():
        for key, value in values.items():
            tensors[f"optimizer.{index}.{key}"] = torch.as_tensor(value).detach()
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = state
    for index, tensor in enumerate(carry or ()):
        tensors[f"carry.{index}"] = tensor.detach()
    metadata = {
        "step": str(step),
        "zoo_version": __version__,
        "param_groups": json.dumps(optimizer_state["param_groups"]),
        "sampler": json.dumps(sampler),
        "carry": str(len(carry) if carry is not None else -1),
    }
    contiguous = {k: v.contiguous().cpu() for k, v in tensors.items()}
    with atomic.atomic_path(run_dir / RESUME_FILE) as temp:
        save_file(contiguous, str(temp), metadata=metadata)


def load_resume_state(run_dir: Path, device: torch.device) -> ResumeState:
    from safetensors import safe_open

    from zoo.errors import ZooError

    path = Path(run_dir) / RESUME_FILE
    if not path.exists():
        raise ZooError(
            f"run {str(run_dir)!r} has no {RESUME_FILE}: it never reached a checkpoint, "
            "or was written by a zoo without --resume support"
        )
    model: dict[str, torch.Tensor] = {}
    optimizer_state: dict[int, dict[str, torch.Tensor]] = {}
    cuda: dict[int, torch.Tensor] = {}
    carry: dict[int, torch.Tensor] = {}
    torch_rng = torch.get_rng_state()
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        for key in handle.keys():  # noqa: SIM118 - safe_open is not a mapping
            tensor = handle.get_tensor(key)
            kind, _, rest = key.partition(".")
            if kind == "model":
                model[rest] = tensor.to(device)
            elif kind == "optimizer":
                index, _, name = rest.partition(".")
                optimizer_state.setdefault(int(index), {})[name] = tensor
            elif key == "rng.torch":
                torch_rng = tensor
            elif kind == "rng":
                cuda[int(rest.rpartition(".")[2])] = tensor
            elif kind == "carry":
                carry[int(rest)] = tensor.to(device)
    optimizer = {
        "state": optimizer_state,
        "param_groups": json.loads(metadata["param_groups"]),
    }
    carried = tuple(carry[i] for i in sorted(carry)) if int(metadata["carry"]) >= 0 else None
    return ResumeState(
        step=int(metadata["step"]),
        model=model,
        optimizer=optimizer,
        sampler=json.loads(metadata["sampler"]),
        torch_rng=torch_rng,
        cuda_rng=[cuda[i] for i in sorted(cuda)],
        carry=carried,
    )
