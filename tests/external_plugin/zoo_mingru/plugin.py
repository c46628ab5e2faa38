"""Registers the ``mingru`` architecture with zoo (entry point ``mingru`` in group ``zoo``),
and a tiny trained one, ``mingru/tinyshakespeare-tiny`` (its run directory under ``models/``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zoo import hookimpl
from zoo.plugin import register_index

ZOO_PLUGIN_API = 3  # 3: zoo_register_pretrained


@dataclass
class MinGRUConfig:
    """Shape of a minGRU language model."""

    hidden: int = 128  # width of the embedding, of every minGRU layer and of the head's input
    layers: int = 2  # stacked minGRU layers, each with a residual connection


@hookimpl
def zoo_register_architectures(register):
    register(
        "mingru",
        summary="minGRU (Feng et al. 2024): gates read only the input",
        config=MinGRUConfig,
        factory="zoo_mingru.model:MinGRU",  # imported only when the model is built
        train_defaults={"lr": 3e-3},
    )


@hookimpl
def zoo_register_pretrained(register):
    register_index(register, Path(__file__).parent / "models.json")
