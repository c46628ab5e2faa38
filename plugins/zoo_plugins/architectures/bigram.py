"""``bigram``: next-token logits read straight from a V x V embedding table (makemore)."""

from __future__ import annotations

import torch
from torch import nn

from zoo_plugins.architectures.configs import BigramConfig
from zoo_plugins.architectures.gates import single_sequence


class Bigram(nn.Module):
    """Row ``i`` of the table holds the logits of the token that follows token ``i``."""

    state_names: tuple[str, ...] = ()

    def __init__(self, config: BigramConfig, vocab_size: int) -> None:
        super().__init__()
        self.config = config
        self.vocab_size = vocab_size
        self.table = nn.Embedding(vocab_size, vocab_size)
        nn.init.zeros_(self.table.weight)  # start from the uniform distribution

    def init_state(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """No state: the next token depends on the current one only."""
        return ()

    def forward(
        self, idx: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        return self.table(idx), ()  # (B, T, V)

    def inspect(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """The whole model at once, whatever ``idx`` (1, T) holds.

        ``"next-token probabilities"`` (V, V): softmax of the table, row = current token,
        column = next token; each row sums to 1.
        """
        single_sequence(idx)
        with torch.no_grad():
            probabilities = torch.softmax(self.table.weight.float(), dim=-1)
        return {"next-token probabilities": probabilities.cpu()}
