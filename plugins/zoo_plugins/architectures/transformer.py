"""``transformer``: a mini GPT with a key/value cache for stepping.

Token embeddings, pre-norm blocks of causal multi-head self-attention and an
MLP, a final layer norm and an output layer tied to the token embedding.

Positions are given by rotary embeddings (RoPE) rather than a learned table,
and attention is a *sliding window* of ``block_size`` tokens: each token sees
itself and the ``block_size - 1`` tokens before it (stacked layers reach further
back, ``layers * (block_size - 1)`` tokens in all, as in Mistral's sliding-window
attention). Training windows are no longer than ``block_size``, so there the
mask is the usual causal one. What
this buys is generation past ``block_size`` that is exact rather than
approximate: the cache keeps the last ``block_size`` keys and values, a new
token attends to them, and since RoPE scores depend only on the distance
between tokens, nothing is re-encoded. One full forward over a long sequence
and stepping through it one token at a time give the same logits.

State, for ``forward`` with T new tokens:
    keys      (layers, B, heads, block_size, head_dim)  the last block_size keys, oldest first
    values    (layers, B, heads, block_size, head_dim)
    position  (B,) int64: how many tokens have been consumed so far
Cache slots before the first token are zeros and masked out.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from zoo_plugins.architectures.configs import TransformerConfig


def rotary_tables(
    positions: torch.Tensor, inverse_frequencies: torch.Tensor, heads: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosines and signed sines that :func:`rotate` multiplies by, for tokens at ``positions``.

    ``positions`` is (T,) when every row starts at 0 (a full forward) or (B, T).
    The tables are (..., T, 2, heads, head_dim): the same values for queries and
    keys and for every head, but laid out whole, because a multiply that
    broadcasts them over those axes runs in head_dim-long pieces and costs
    about a fifth more than one over contiguous rows (they are small: T x 2E).
    """
    angles = positions[..., None].float() * inverse_frequencies  # (..., T, D/2)
    cos, sin = angles.cos(), angles.sin()
    cos = torch.cat((cos, cos), dim=-1)  # (..., T, D)
    sin = torch.cat((-sin, sin), dim=-1)  # the sign of the halves' swap in rotate
    shape = (*cos.shape[:-1], 2, heads, cos.shape[-1])  # (..., T, 2, heads, D)
    return (
        cos[..., None, None, :].expand(shape).contiguous(),
        sin[..., None, None, :].expand(shape).contiguous(),
    )


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Apply rotary position embedding to ``x`` (B, T, 2, heads, head_dim), halves convention.

    With halves x1, x2 of the last axis this is (x1 cos - x2 sin, x2 cos + x1 sin),
    written as x cos + swap(x) sin with the sign folded into ``sin`` (the same
    floating-point results): four whole-tensor kernels forward and four back,
    where slicing and concatenating the halves takes more, and each slice's
    backward fills a zero tensor.
    """
    swapped = x.roll(x.shape[-1] // 2, dims=-1)  # (x2, x1)
    return x * cos + swapped * sin


class SelfAttention(nn.Module):
    """Multi-head self-attention over the cached keys/values and the new tokens."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.head_dim = config.embed // config.heads
        self.qkv = nn.Linear(config.embed, 3 * config.embed, bias=config.bias)
        self.proj = nn.Linear(config.embed, config.embed, bias=config.bias)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, T, E = x.shape
        qk, v = self.qkv(x).split((2 * E, E), dim=2)  # (B, T, 2E), (B, T, E)
        # queries and keys rotated together, one kernel each for both
        qk = rotate(qk.view(B, T, 2, self.heads, self.head_dim), cos, sin)  # (B, T, 2, heads, D)
        q, k = (t.transpose(1, 2) for t in qk.unbind(2))  # each (B, heads, T, D)
        v = v.view(B, T, self.heads, self.head_dim).transpose(1, 2)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)  # (B, heads, S + T, D)
            v = torch.cat((past[1], v), dim=2)
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=mask is None,
        )  # (B, heads, T, D)
        out = out.transpose(1, 2).reshape(B, T, E)
        return self.resid_dropout(self.proj(out)), k, v


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.embed, bias=config.bias)
        self.attn = SelfAttention(config)
        self.ln2 = nn.LayerNorm(config.embed, bias=config.bias)
        self.mlp = nn.Sequential(
            nn.Linear(config.embed, 4 * config.embed, bias=config.bias),
            nn.GELU(),
            nn.Linear(4 * config.embed, config.embed, bias=config.bias),
            nn.Dropout(config.dropout),
        )

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        attended, k, v = self.attn(self.ln1(x), cos, sin, mask, past)
        x = x + attended
        return x + self.mlp(self.ln2(x)), k, v


class Transformer(nn.Module):
    """Mini GPT with rotary positions, a sliding attention window and a KV-cache step."""

    state_names = ("keys", "values", "position")
    inverse_frequencies: torch.Tensor  # (head_dim / 2,) RoPE frequencies, a buffer

    def __init__(self, config: TransformerConfig, vocab_size: int) -> None:
        super().__init__()
        if config.embed % config.heads or (config.embed // config.heads) % 2:
            raise ValueError("transformer: embed must divide into heads of even width")
        if min(config.layers, config.block_size) <= 0:
            raise ValueError("transformer needs positive layers and block_size")
        self.config = config
        self.vocab_size = vocab_size
        self.head_dim = config.embed // config.heads
        self.embedding = nn.Embedding(vocab_size, config.embed)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.ln_f = nn.LayerNorm(config.embed, bias=config.bias)
        inverse_frequencies = 1.0 / (
            10000 ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim)
        )
        self.register_buffer("inverse_frequencies", inverse_frequencies, persistent=False)
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                # GPT-2: scale residual projections by depth
                nn.init.normal_(parameter, std=0.02 / math.sqrt(2 * config.layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def init_state(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """An empty cache: zero keys/values (all masked) and position 0."""
        c = self.config
        weight = self.embedding.weight
        keys = weight.new_zeros(c.layers, batch_size, c.heads, c.block_size, self.head_dim)
        position = torch.zeros(batch_size, dtype=torch.long, device=weight.device)
        return keys, keys.clone(), position

    def forward(
        self, idx: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        B, T = idx.shape
        window = self.config.block_size
        device = idx.device
        steps = torch.arange(T, device=device)  # (T,)
        if state is None:
            # Every row starts at position 0: one (T,) set of positions serves the batch,
            # keys are the new tokens only, and the mask is plain causal when T fits the window.
            start = None
            positions = key_positions = steps  # (T,)
            pasts: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(self.blocks)
        else:
            start = state[2]  # (B,)
            positions = start[:, None] + steps  # (B, T) absolute
            slots = torch.arange(window, device=device) - window  # (S,) offsets before start
            key_positions = torch.cat((start[:, None] + slots, positions), dim=1)  # (B, S + T)
            pasts = [(state[0][i], state[1][i]) for i in range(len(self.blocks))]
        cos, sin = rotary_tables(positions, self.inverse_frequencies, self.config.heads)
        mask = None
        if state is not None or window < T:
            query = positions[..., :, None]  # (T, 1) or (B, T, 1)
            key = key_positions[..., None, :]  # (1, K) or (B, 1, K)
            mask = (key >= 0) & (key <= query) & (key > query - window)  # (T, K) or (B, T, K)
            if state is not None:
                mask = mask[:, None]  # (B, 1, T, K): alike for every head

        x = self.dropout(self.embedding(idx))  # (B, T, E)
        new_keys, new_values = [], []
        for block, past in zip(self.blocks, pasts, strict=True):
            x, k, v = block(x, cos, sin, mask, past)  # k, v: (B, heads, K, D)
            new_keys.append(k)
            new_values.append(v)
        logits = F.linear(self.ln_f(x), self.embedding.weight)  # (B, T, V)
        position = (
            torch.full((B,), T, dtype=torch.long, device=device) if start is None else start + T
        )
        new_state = (self._last_window(new_keys), self._last_window(new_values), position)
        return logits, new_state

    def _last_window(self, layers: list[torch.Tensor]) -> torch.Tensor:
        """Each layer's (B, heads, K, D) cut to its last ``block_size`` entries along K
        (zero-padded at the front when K is shorter), stacked: (layers, B, heads, block_size, D).

        Cut before stacking, so the one copy made holds only the window, not a long prompt.
        """
        window = self.config.block_size
        length = layers[0].shape[2]
        if length >= window:
            return torch.stack([keys[:, :, length - window :] for keys in layers])
        return F.pad(torch.stack(layers), (0, 0, window - length, 0))
