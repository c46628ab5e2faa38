"""How many CPU threads the process's runtimes use: ``--threads N`` for sampling, read by torch
(:mod:`zoo.models.loading`) and by exporters' onnxruntime sessions (``zoo.plugin.cpu_threads``).

Unset (None), each runtime keeps its own default: one thread per physical core, which
is the fastest on an idle machine. On a busy one (another program using the cores) fewer
threads can be many times faster; docs/benchmarks.md gives the measurements. Training has
its own setting, ``train.threads``, recorded with the run.
"""

from __future__ import annotations

import sys

_threads: int | None = None


def set_cpu_threads(threads: int | None) -> None:
    """Use ``threads`` CPU threads from now on (None: each runtime's default); torch, if it is
    loaded already, at once."""
    global _threads
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    _threads = threads
    torch = sys.modules.get("torch")  # never imported here: zoo sample --onnx stays torch-free
    if threads is not None and torch is not None:
        torch.set_num_threads(threads)


def cpu_threads() -> int | None:
    """The CPU threads asked for with :func:`set_cpu_threads`, or None for the default."""
    return _threads
