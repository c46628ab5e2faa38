"""``rnn``, ``lstm``, ``gru``: the char-rnn family (Karpathy 2015).

Embedding -> stacked recurrent layers of one cell type -> linear head. The
state is the hidden tensor ``h`` (layers, B, hidden); the LSTM adds its cell
``c`` of the same shape.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo_plugins.architectures.configs import RecurrentConfig
from zoo_plugins.architectures.gates import gru_gates, lstm_gates, rnn_states, single_sequence

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentLM(nn.Module):
    """A recurrent language model with one kind of cell."""

    def __init__(self, config: RecurrentConfig, vocab_size: int, cell: str) -> None:
        super().__init__()
        if min(config.embed, config.hidden, config.layers) <= 0:
            raise ValueError(f"{cell} needs positive embed, hidden and layers")
        self.config = config
        self.cell = cell
        self.vocab_size = vocab_size
        self.state_names = ("h", "c") if cell == "lstm" else ("h",)
        self.embedding = nn.Embedding(vocab_size, config.embed)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = _CELLS[cell](
            config.embed,
            config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.head = nn.Linear(config.hidden, vocab_size)

    def init_state(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """Zeros of shape (layers, B, hidden): ``(h,)``, or ``(h, c)`` for the LSTM."""
        weight = self.head.weight
        zeros = weight.new_zeros(self.config.layers, batch_size, self.config.hidden)
        return (zeros, zeros.clone()) if self.cell == "lstm" else (zeros,)

    def forward(
        self, idx: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        if state is None:
            state = self.init_state(idx.shape[0])
        x = self.dropout(self.embedding(idx))  # (B, T, E)
        if self.cell == "lstm":
            out, (h, c) = self.rnn(x, (state[0], state[1]))  # (B, T, H)
            new_state: tuple[torch.Tensor, ...] = (h, c)
        else:
            out, h = self.rnn(x, state[0])
            new_state = (h,)
        return self.head(self.dropout(out)), new_state  # (B, T, V)

    def inspect(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """What the cells compute while reading ``idx`` (1, T) from the zero state (no dropout).

        Every view is (layers, T, hidden), replayed from the fused module's own weights
        (see :mod:`zoo_plugins.architectures.gates`):
        rnn: ``"hidden state"`` (the tanh output);
        lstm: ``"input gate"``, ``"forget gate"``, ``"output gate"``, ``"cell candidate"``,
        ``"cell state"``, ``"hidden state"``;
        gru: ``"reset gate"``, ``"update gate"``, ``"candidate"``, ``"hidden state"``.
        """
        single_sequence(idx)
        with torch.no_grad():
            x = self.embedding(idx)[0]  # (T, E)
        if isinstance(self.rnn, nn.LSTM):
            return lstm_gates(self.rnn, x)
        if isinstance(self.rnn, nn.GRU):
            return gru_gates(self.rnn, x)
        assert isinstance(self.rnn, nn.RNN)
        return rnn_states(self.rnn, x)


def rnn(config: RecurrentConfig, vocab_size: int) -> RecurrentLM:
    """Elman RNN with tanh units."""
    return RecurrentLM(config, vocab_size, "rnn")


def lstm(config: RecurrentConfig, vocab_size: int) -> RecurrentLM:
    return RecurrentLM(config, vocab_size, "lstm")


def gru(config: RecurrentConfig, vocab_size: int) -> RecurrentLM:
    return RecurrentLM(config, vocab_size, "gru")
