"""Choosing the torch device for ``--device auto|cpu|cuda|cuda:N|mps``."""

from __future__ import annotations

import torch

from zoo.errors import ZooError


def resolve_device(name: str) -> torch.device:
    """The device to use; ``auto`` picks cuda, then mps, then cpu."""
    name = name.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ZooError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ZooError("--device cuda asked for, but torch sees no CUDA GPU; use --device auto")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ZooError("--device mps asked for, but MPS is not available; use --device auto")
    if device.type not in {"cpu", "cuda", "mps"}:
        raise ZooError(f"unsupported device {name!r}; use auto, cpu, cuda, cuda:N or mps")
    return device


def use_threads(threads: int) -> int:
    """Make torch use ``threads`` CPU threads (0: leave its default, one per physical core);
    the count it had before, to restore."""
    before = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    return before


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 autocast on CUDA GPUs that support it; full precision elsewhere."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None
