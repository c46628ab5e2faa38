"""Config dataclasses of the built-in architectures; importing them never imports torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BigramConfig:
    """The bigram model has no options: its whole model is one V x V table."""


@dataclass
class RecurrentConfig:
    """char-rnn: embedding -> stacked recurrent layers of one cell type -> linear head."""

    embed: int = 64  # embedding width
    hidden: int = 256  # hidden size of each recurrent layer
    layers: int = 2  # stacked recurrent layers
    dropout: float = 0.1  # dropout on embeddings, between layers and before the head


@dataclass
class GRUTiedConfig:
    """Stacked GRU whose output layer reuses the embedding matrix."""

    embed: int = 256  # embedding width; also the width the output layer reads (tied weights)
    hidden: int = 256  # GRU hidden size; a projection maps it to `embed` when they differ
    layers: int = 2  # stacked GRU layers
    dropout: float = 0.1  # dropout on embeddings, between GRU layers and before the output


@dataclass
class TransformerConfig:
    """A mini GPT: pre-norm blocks of causal self-attention and MLP, tied embeddings."""

    embed: int = 128  # model width
    layers: int = 4  # transformer blocks
    heads: int = 4  # attention heads; embed must divide by it
    block_size: int = 128  # attention window: each token sees at most this many tokens
    dropout: float = 0.0  # dropout on embeddings, attention and residual branches
    bias: bool = False  # biases in linear layers and layer norms
