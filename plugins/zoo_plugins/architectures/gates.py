"""What PyTorch's fused recurrent modules compute inside, replayed for ``inspect(idx)``.

``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` return only the last layer's outputs and the
final state: the gates never leave the fused kernel. The helpers here replay a module
step by step, layer by layer, from its own parameters (``weight_ih_l{k}``,
``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``), starting from the zero state and
without dropout (as in eval mode). Each takes one sequence ``x`` (T, input) and returns
float tensors (layers, T, hidden) on the CPU, keyed by readable names.

:func:`evaluating` and :func:`single_sequence` serve every architecture's ``inspect``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn import functional as F


@contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout) inside the block; every submodule's own mode restored after."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def single_sequence(idx: torch.Tensor) -> int:
    """The length T of ``idx`` (1, T), which ``inspect`` reads; anything else is an error."""
    if idx.dim() != 2 or idx.shape[0] != 1 or idx.shape[1] < 1:
        raise ValueError(f"inspect reads one sequence of shape (1, T), got {tuple(idx.shape)}")
    return int(idx.shape[1])


_Step = Callable[[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]],
                 tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]]


def _replay(module: nn.RNNBase, x: torch.Tensor, state_count: int,
            step: _Step) -> dict[str, torch.Tensor]:
    """Run ``step`` over every position of every layer; stack what it reports.

    ``step(gi, h_gates, state)`` gets the input's contribution to the gates at one position
    (all of them computed at once, one matrix multiply per layer), the hidden state's
    contribution, and the state; it returns the new state (hidden state first) and the
    named values to record there. The next layer reads this layer's hidden states.
    """
    if module.bidirectional or module.proj_size:
        raise ValueError("inspect replays unidirectional recurrent modules without projections")
    layers: dict[str, list[torch.Tensor]] = {}
    with torch.no_grad():
        for k in range(module.num_layers):
            weight_ih = getattr(module, f"weight_ih_l{k}")
            weight_hh = getattr(module, f"weight_hh_l{k}")
            bias_ih = getattr(module, f"bias_ih_l{k}") if module.bias else None
            bias_hh = getattr(module, f"bias_hh_l{k}") if module.bias else None
            inputs = F.linear(x.to(weight_ih.dtype), weight_ih, bias_ih)  # (T, gates * H)
            state = tuple(inputs.new_zeros(module.hidden_size) for _ in range(state_count))
            records: dict[str, list[torch.Tensor]] = {}
            for t in range(inputs.shape[0]):
                state, values = step(inputs[t], F.linear(state[0], weight_hh, bias_hh), state)
                for name, value in values.items():
                    records.setdefault(name, []).append(value)
            for name, values_over_time in records.items():
                layers.setdefault(name, []).append(torch.stack(values_over_time))  # (T, H)
            x = torch.stack(records["hidden state"])  # the next layer's input, (T, H)
    return {name: torch.stack(per_layer).float().cpu() for name, per_layer in layers.items()}


def rnn_states(rnn: nn.RNN, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Elman RNN: ``"hidden state"`` (layers, T, hidden), h = tanh(W_ih x + W_hh h + b)."""
    activation = torch.tanh if rnn.nonlinearity == "tanh" else torch.relu

    def step(gi: torch.Tensor, gh: torch.Tensor, state: tuple[torch.Tensor, ...]
             ) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
        h = activation(gi + gh)
        return (h,), {"hidden state": h}

    return _replay(rnn, x, 1, step)


def lstm_gates(lstm: nn.LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """LSTM gates and states, each (layers, T, hidden).

    PyTorch's rows of ``weight_ih`` are, in order, the input gate i, the forget gate f,
    the cell candidate g and the output gate o; then c = f * c + i * g, h = o * tanh(c).
    Keys: ``"input gate"``, ``"forget gate"``, ``"output gate"`` (in [0, 1]),
    ``"cell candidate"`` (g, in [-1, 1]), ``"cell state"`` (c, unbounded) and
    ``"hidden state"`` (h, in [-1, 1]).
    """

    def step(gi: torch.Tensor, gh: torch.Tensor, state: tuple[torch.Tensor, ...]
             ) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
        i, f, g, o = (gi + gh).chunk(4)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * state[1] + i * g
        h = o * torch.tanh(c)
        return (h, c), {"input gate": i, "forget gate": f, "cell candidate": g,
                        "output gate": o, "cell state": c, "hidden state": h}

    return _replay(lstm, x, 2, step)


def gru_gates(gru: nn.GRU, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """GRU gates and states, each (layers, T, hidden).

    PyTorch's rows of ``weight_ih`` are, in order, the reset gate r, the update gate z and
    the candidate n: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h = (1 - z) * n + z * h.
    Keys: ``"reset gate"``, ``"update gate"`` (in [0, 1]; z near 1 keeps the old state),
    ``"candidate"`` (n, in [-1, 1]) and ``"hidden state"`` (h, in [-1, 1]).
    """

    def step(gi: torch.Tensor, gh: torch.Tensor, state: tuple[torch.Tensor, ...]
             ) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
        i_r, i_z, i_n = gi.chunk(3)
        h_r, h_z, h_n = gh.chunk(3)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        h = (1 - z) * n + z * state[0]
        return (h,), {"reset gate": r, "update gate": z, "candidate": n, "hidden state": h}

    return _replay(gru, x, 1, step)
