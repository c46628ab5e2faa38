"""Config dataclasses of the built-in architectures; importing them never imports torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GRUTiedConfig:
    """Stacked GRU whose output layer reuses the embedding matrix."""

    embed: int = 256  # embedding width; also the width the output layer reads (tied weights)
    hidden: int = 256  # GRU hidden size; a projection maps it to `embed` when they differ
    layers: int = 2  # stacked GRU layers
    dropout: float = 0.1  # dropout on embeddings, between GRU layers and before the output
