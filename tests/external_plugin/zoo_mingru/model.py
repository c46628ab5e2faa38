"""The minGRU language model: embedding, stacked minGRU layers, linear head."""

from __future__ import annotations

import torch
from torch import nn


class MinGRULayer(nn.Module):
    """``h_t = (1 - z_t) h_{t-1} + z_t * candidate_t``, gate and candidate from ``x_t`` alone."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.gate = nn.Linear(hidden, hidden)
        self.candidate = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # x: (B, T, H); h: (B, H), the state before the first of the T tokens
        z = torch.sigmoid(self.gate(x))  # (B, T, H)
        candidate = self.candidate(x)  # (B, T, H)
        outputs = []
        for t in range(x.shape[1]):
            h = (1 - z[:, t]) * h + z[:, t] * candidate[:, t]
            outputs.append(h)
        return x + self.norm(torch.stack(outputs, dim=1)), h  # residual; (B, T, H), (B, H)


class MinGRU(nn.Module):
    """A zoo architecture: ``forward(idx, state) -> (logits, state)``, state ``(h,)``."""

    state_names = ("h",)

    def __init__(self, config, vocab_size: int) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.hidden)
        self.layers = nn.ModuleList(MinGRULayer(config.hidden) for _ in range(config.layers))
        self.head = nn.Linear(config.hidden, vocab_size)

    def init_state(self, batch_size: int) -> tuple[torch.Tensor]:
        weight = self.head.weight
        shape = (self.config.layers, batch_size, self.config.hidden)
        return (torch.zeros(shape, dtype=weight.dtype, device=weight.device),)

    def forward(self, idx: torch.Tensor, state=None):
        (h,) = state if state is not None else self.init_state(idx.shape[0])  # (L, B, H)
        x = self.embedding(idx)  # (B, T, H)
        last = []
        for layer, h_layer in zip(self.layers, h, strict=True):
            x, h_new = layer(x, h_layer)
            last.append(h_new)
        return self.head(x), (torch.stack(last),)  # (B, T, V), ((L, B, H),)
