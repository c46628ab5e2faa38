"""``gru-tied``: embedding -> stacked GRU -> output layer sharing the embedding matrix.

Weight tying (Press & Wolf 2017; Inan et al. 2017) saves ``V x E`` parameters
and usually lowers validation loss. When ``hidden != embed`` a linear
projection maps the GRU output to the embedding width first.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo_plugins.architectures.configs import GRUTiedConfig
from zoo_plugins.architectures.gates import gru_gates, single_sequence


class GRUTied(nn.Module):
    """Stacked GRU language model with tied input and output embeddings."""

    state_names = ("h",)

    def __init__(self, config: GRUTiedConfig, vocab_size: int) -> None:
        super().__init__()
        if min(config.embed, config.hidden, config.layers) <= 0:
            raise ValueError("gru-tied needs positive embed, hidden and layers")
        self.config = config
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, config.embed)
        self.dropout = nn.Dropout(config.dropout)
        self.gru = nn.GRU(
            config.embed,
            config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.projection = (
            nn.Linear(config.hidden, config.embed, bias=False)
            if config.hidden != config.embed
            else nn.Identity()
        )
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))
        nn.init.normal_(self.embedding.weight, std=config.embed**-0.5)

    def init_state(self, batch_size: int) -> tuple[torch.Tensor]:
        """The zero hidden state, ``h`` of shape (layers, B, hidden)."""
        weight = self.embedding.weight
        h = weight.new_zeros(self.config.layers, batch_size, self.config.hidden)
        return (h,)

    def forward(
        self, idx: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor]]:
        if state is None:
            state = self.init_state(idx.shape[0])
        x = self.dropout(self.embedding(idx))  # (B, T, E)
        out, h = self.gru(x, state[0])  # (B, T, H), (L, B, H)
        out = self.projection(self.dropout(out))  # (B, T, E)
        logits = nn.functional.linear(out, self.embedding.weight, self.output_bias)  # (B, T, V)
        return logits, (h,)

    def inspect(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """The GRU's gates while reading ``idx`` (1, T) from the zero state (no dropout).

        ``"reset gate"``, ``"update gate"``, ``"candidate"`` and ``"hidden state"``, each
        (layers, T, hidden), replayed from the GRU's own weights (see :func:`gru_gates`).
        """
        single_sequence(idx)
        with torch.no_grad():
            x = self.embedding(idx)[0]  # (T, E)
        return gru_gates(self.gru, x)
