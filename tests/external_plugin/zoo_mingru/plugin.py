"""Registers the ``mingru`` architecture with zoo (entry point ``mingru`` in group ``zoo``)."""

from __future__ import annotations

from dataclasses import dataclass

from zoo import hookimpl

ZOO_PLUGIN_API = 1  # the zoo plugin API this module was written against


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
