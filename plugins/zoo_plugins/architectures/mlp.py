"""``mlp``: Bengio et al. 2003, as in makemore: a fixed window of the last ``context`` tokens.

Each position reads its own token and the ``context - 1`` tokens before it; their
embeddings, concatenated oldest first, go through one tanh hidden layer to the logits.

Padding: positions before the first token read a learned padding embedding, so the
model can tell "no token yet" from any real token. Embedding row 0 is that slot and
row ``i + 1`` belongs to token ``i``: the window holds token ids plus one, and 0 means
padding, so the initial state is all zeros.

State, one tensor:
    window  (B, context) int64: the last ``context`` tokens consumed, as id + 1, oldest
            first; 0 where fewer than ``context`` tokens have been consumed
"""

from __future__ import annotations

import torch
from torch import nn

from zoo_plugins.architectures.configs import MLPConfig
from zoo_plugins.architectures.gates import evaluating, single_sequence

PADDING = 0  # the window's value for a position before the first token (embedding row 0)


class MLP(nn.Module):
    """Concatenated embeddings of a fixed token window -> tanh hidden layer -> logits."""

    state_names = ("window",)

    def __init__(self, config: MLPConfig, vocab_size: int) -> None:
        super().__init__()
        if min(config.context, config.embed, config.hidden) <= 0:
            raise ValueError("mlp needs positive context, embed and hidden")
        self.config = config
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size + 1, config.embed)  # row 0: padding
        self.dropout = nn.Dropout(config.dropout)
        self.hidden = nn.Linear(config.context * config.embed, config.hidden)
        self.head = nn.Linear(config.hidden, vocab_size)
        with torch.no_grad():  # start near the uniform distribution (makemore part 3)
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()

    def init_state(self, batch_size: int) -> tuple[torch.Tensor]:
        """An all-padding window: zeros of shape (B, context), int64."""
        device = self.embedding.weight.device
        return (torch.zeros(batch_size, self.config.context, dtype=torch.long, device=device),)

    def forward(
        self, idx: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor]]:
        n, T = self.config.context, idx.shape[1]
        window = self.init_state(idx.shape[0])[0] if state is None else state[0]  # (B, n)
        tokens = torch.cat((window, idx + 1), dim=1)  # (B, n + T): shifted ids, 0 = padding
        x = self.embedding(tokens)  # (B, n + T, E)
        # position t reads tokens[t + 1 .. t + n]: n slices of (B, T, E), oldest first
        x = torch.cat([x[:, k + 1 : k + 1 + T] for k in range(n)], dim=2)  # (B, T, n * E)
        h = torch.tanh(self.hidden(self.dropout(x)))  # (B, T, H)
        return self.head(self.dropout(h)), (tokens[:, T:],)  # (B, T, V), (B, n)

    def inspect(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """The hidden layer while reading ``idx`` (1, T) from an all-padding window.

        ``"hidden layer"`` (1, T, hidden): the tanh activations, in [-1, 1], that the head
        reads at each position (no dropout). Units stuck near -1 or 1 for every input are
        saturated, the failure makemore part 3 teaches to look for.
        """
        single_sequence(idx)
        captured: list[torch.Tensor] = []
        hook = self.hidden.register_forward_hook(lambda _m, _i, out: captured.append(out))
        try:
            with torch.no_grad(), evaluating(self):
                self(idx)
        finally:
            hook.remove()
        return {"hidden layer": torch.tanh(captured[0].float()).cpu()}  # (1, T, H)
