"""The primitives of one training or evaluation step: batches to tensors, autocast, the loss.

Shared by the training loop and by evaluation, so both compute the loss the same way.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch.nn import functional as F

from zoo.data.batches import Batch
from zoo.data.documents import PAD_TARGET

State = tuple[torch.Tensor, ...]  # a model's recurrent state (see zoo.registry.contracts)


def to_device(batch: Batch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Move an (inputs, targets) numpy batch to ``device`` (pinned, asynchronous on CUDA)."""
    tensors = [torch.from_numpy(array) for array in batch]
    if device.type == "cuda":
        tensors = [t.pin_memory().to(device, non_blocking=True) for t in tensors]
    else:
        tensors = [t.to(device) for t in tensors]
    return tensors[0], tensors[1]


def autocast(device: torch.device,
             dtype: torch.dtype | None) -> contextlib.AbstractContextManager[Any]:
    """Autocast to ``dtype`` on ``device`` (from :func:`zoo.models.devices.autocast_dtype`), or
    nothing for None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def batch_loss(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    state: State | None = None,
) -> tuple[torch.Tensor, torch.Tensor, State]:
    """Mean cross-entropy over a batch's targets (padding left out), the logits (B, T, V)
    and the model's new state."""
    logits, new_state = model(inputs, state)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1),
                           ignore_index=PAD_TARGET)
    return loss, logits, new_state


def detach_state(state: State | None) -> State | None:
    """The state's values without their autograd history (truncated BPTT)."""
    return None if state is None else tuple(t.detach() for t in state)
