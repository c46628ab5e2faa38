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


def cpu_computes_bfloat16() -> bool:
    """Whether this CPU has bfloat16 instructions (AVX512-BF16 or AMX), which make CPU
    autocast pay: a training step 1.25-1.65x faster on an AMD Zen 4 (docs/benchmarks.md).
    Without them oneDNN converts in software and bfloat16 is no faster, so it is not used."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu, torch>=2.3
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The dtype a training step autocasts to on ``device`` for ``train.precision``, or None
    for full precision. ``auto``: bfloat16 on CUDA GPUs that support it and on CPUs that
    compute it natively; ``bfloat16``: on any CUDA GPU or CPU; ``float32``: never."""
    if precision == "float32":
        return None
    if device.type == "mps":
        if precision == "bfloat16":
            raise ZooError("train.precision=bfloat16 is for CUDA and CPU devices, not mps; "
                           "use --set train.precision=auto")
        return None
    if precision == "bfloat16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if device.type == "cpu" and cpu_computes_bfloat16() else None
