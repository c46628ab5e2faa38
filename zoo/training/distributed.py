"""Multi-GPU and multi-machine training with PyTorch DDP, launched by ``torchrun``.

``torchrun`` sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; without them
training runs as a single process and nothing here does anything.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in the job; ``world_size == 1`` outside torchrun."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone logs and writes the run directory."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_environment(cls) -> DistributedContext:
        if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
            return cls()
        return cls(
            rank=int(os.environ["RANK"]),
            local_rank=int(os.environ.get("LOCAL_RANK", "0")),
            world_size=int(os.environ["WORLD_SIZE"]),
        )

    def device(self, requested: torch.device) -> torch.device:
        """Each rank takes its own GPU (``cuda:LOCAL_RANK``) when training on CUDA."""
        if self.enabled and requested.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return requested

    def start(self, device: torch.device) -> None:
        """Join the process group: NCCL on CUDA, gloo elsewhere."""
        if not self.enabled or dist.is_initialized():
            return
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")

    def stop(self, together: bool = True) -> None:
        """Leave the process group; ``together``: first wait for every rank to get here.

        Without that wait a gloo rank that leaves while another still talks to it can
        abort its process at exit (SIGABRT, "terminate called without an active
        exception"), about one 2-process CPU run in ten. After an error a rank may never
        come, so then each leaves alone.
        """
        if self.enabled and dist.is_initialized():
            if together:
                dist.barrier()
            dist.destroy_process_group()

    @contextlib.contextmanager
    def joined(self, device: torch.device) -> Iterator[None]:
        """The process group for the duration of a ``with`` block (:meth:`start`, :meth:`stop`)."""
        self.start(device)
        try:
            yield
        except BaseException:
            self.stop(together=False)
            raise
        self.stop()

    def wrap(self, model: torch.nn.Module, device: torch.device) -> Any:
        """``model`` in DistributedDataParallel, which averages gradients across ranks.

        Outside torchrun the model itself. The training step calls the wrapper;
        everything else (evaluation, checkpoints) uses ``model``.
        """
        if not self.enabled:
            return model

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all ranks (in place), a no-op for one process."""
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank if ``flag`` is true on any rank."""
        if not self.enabled:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        return bool(self.sum(value).item() > 0)
