"""The one-step module that is exported: token and state in, logits and new state out.

Relies only on the architecture contract: ``forward(idx, state)`` and
``init_state(batch_size)``, with the state a tuple of tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


class OneStep(nn.Module):
    """``(input_ids[B,1], *state) -> (logits[B,V], *new_state)`` for any architecture."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        logits, new_state = self.model(input_ids, tuple(state) if state else None)
        return (logits[:, -1], *new_state)  # (B, V), then each state tensor


@dataclass(frozen=True)
class StateTensor:
    """One tensor of the recurrent state as the export sees it."""

    name: str  # graph input name; the output is name + "_out"
    shape: tuple[int, ...]  # at batch size 1
    batch_axis: int | None  # None: the tensor does not grow with the batch
    dtype: torch.dtype
    zeros: bool  # whether the initial value is all zeros


def describe_state(model: Any) -> list[StateTensor]:
    """Names, shapes, batch axes and initial values of the model's state tensors.

    ``model`` meets :class:`zoo.registry.contracts.Architecture`.
    """
    one, two = model.init_state(1), model.init_state(2)
    names = getattr(model, "state_names", None) or tuple(f"state{i}" for i in range(len(one)))
    if len(names) != len(one):
        raise ValueError(f"state_names has {len(names)} names for {len(one)} state tensors")
    described = []
    for name, first, second in zip(names, one, two, strict=True):
        grown = [axis for axis, (a, b) in enumerate(zip(first.shape, second.shape, strict=True))
                 if a != b]
        if len(grown) > 1:
            raise ValueError(f"state {name!r} grows with the batch along more than one axis")
        described.append(StateTensor(name, tuple(first.shape), grown[0] if grown else None,
                                     first.dtype, bool((first == 0).all())))
    return described


def example_state(model: Any, batch_size: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A state to trace with: random values, every tensor distinct (the LSTM pitfall)."""
    generator = torch.Generator().manual_seed(seed)
    state = []
    for tensor in model.init_state(batch_size):
        if tensor.is_floating_point():
            state.append(torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype))
        else:
            state.append(tensor.clone())
    return tuple(state)
