"""Whether the tensors in a file fit a model: the first one that does not, with both shapes.

A run's ``model.safetensors`` or ``resume.safetensors`` taken from a model of
another size loads with torch's list of every mismatch; the user is told
about the first one in a line instead, before anything is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from safetensors import safe_open

Shapes = Mapping[str, Sequence[int]]


def shape_text(shape: Sequence[int]) -> str:
    """``[192, 32]``: a shape as the user reads it (``[]`` for a scalar)."""
    return f"[{', '.join(str(int(size)) for size in shape)}]"


def model_shapes(model: Any) -> dict[str, list[int]]:
    """Name -> shape of every tensor in ``model.state_dict()`` (tied weights under each name)."""
    return {name: list(tensor.shape) for name, tensor in model.state_dict().items()}


def file_shapes(path: Path, prefix: str = "") -> dict[str, list[int]]:
    """Name -> shape of the tensors in the safetensors file ``path`` whose names start with
    ``prefix`` (the prefix dropped), read from its header alone."""
    with safe_open(str(path), framework="pt") as handle:
        return {key[len(prefix):]: list(handle.get_slice(key).get_shape())
                for key in handle.keys()  # noqa: SIM118 - safe_open is not a mapping
                if key.startswith(prefix)}


def first_misfit(model: Shapes, found: Shapes, where: str, *, every_name: bool = True
                 ) -> str | None:
    """Words for the first tensor, in the model's order, that ``found`` holds in another
    shape: ``gru.bias_hh_l1 is [192] in WHERE, [144] in the model``; None if all fit.

    With ``every_name``, a tensor the model has and ``found`` lacks, or the other
    way round, is a misfit too (a file that stores tied weights once leaves that
    check to its own loader).
    """
    for name, shape in model.items():
        if name in found and list(found[name]) != list(shape):
            return (f"{name} is {shape_text(found[name])} in {where}, "
                    f"{shape_text(shape)} in the model")
    if every_name:
        for name, shape in model.items():
            if name not in found:
                return f"the model's {name} {shape_text(shape)} is missing from {where}"
        for name, shape in found.items():
            if name not in model:
                return f"{where} holds {name} {shape_text(shape)}, which the model lacks"
    return None
