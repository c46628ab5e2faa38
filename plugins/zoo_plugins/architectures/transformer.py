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

State, for ``forward`` with T new tokens, one key and one value tensor a layer
(``keys0, values0, keys1, values1, ..., position``), so that no step stacks them:
    keysN     (B, heads, block_size, head_dim)  layer N's last block_size keys, oldest
              first, each head's elements in the order of :func:`query_key_pair_order`
    valuesN   (B, heads, block_size, head_dim)
    position  (B,) int64: how many tokens have been consumed so far
Cache slots before the first token are zeros and masked out.
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn
from torch.nn import functional as F

from zoo_plugins.architectures.configs import TransformerConfig
from zoo_plugins.architectures.gates import evaluating, single_sequence


def query_key_pair_order(embed: int, heads: int) -> torch.Tensor:
    """The order of the ``qkv`` projection's 3E output rows that the attention computes in.

    The stored weights keep the halves convention of rotary embedding: within a
    head of width D, element i pairs with element i + D/2. Computing with the
    query and key rows reordered to (0, D/2, 1, D/2 + 1, ...) puts each pair side
    by side, where one complex multiply rotates it; value rows keep their order.
    Attention scores are dot products within a head, which a reordering of both
    queries and keys does not change, so the model means what it always meant.
    """
    head_dim = embed // heads
    half = head_dim // 2
    within_head = torch.stack((torch.arange(half), torch.arange(half) + half), dim=1).flatten()
    query_key = (torch.arange(2 * heads)[:, None] * head_dim + within_head).flatten()  # (2E,)
    return torch.cat((query_key, torch.arange(2 * embed, 3 * embed)))  # (3E,)


def fast_rotation_applies(x: torch.Tensor) -> bool:
    """Whether :meth:`Rotation.__call__` may rotate ``x`` as complex numbers.

    A complex multiply is one kernel each way, where the real formula takes
    several (it made a baby-GPT training step on a CPU about 9% slower). ONNX
    has no complex tensors, there is no bfloat16 complex type for autocast, and
    MPS and compiled graphs are left to the real formula too.
    """
    return (x.dtype in (torch.float32, torch.float64) and x.device.type in ("cpu", "cuda")
            and not torch.onnx.is_in_onnx_export() and not torch.compiler.is_compiling())


def cpu_autocast_is_on(x: torch.Tensor) -> bool:
    """Whether ``x`` is computed under CPU autocast, where attention (and the rotation before
    it, whose complex path is float32 only) computes in float32 while the projections stay
    bfloat16.

    PyTorch's bfloat16 attention backward runs about 5x slower on the CPU than its float32
    one (a baby-GPT training step took 1.27x longer in bfloat16 than in float32 with it).
    """
    return x.device.type == "cpu" and torch.is_autocast_enabled("cpu")


class Rotation:
    """Rotary position embedding for one forward, made once and applied in every layer.

    ``positions`` is (T,) when every row starts at 0 (a full forward) or (B, T).
    Inputs are (B, T, 2, heads, D): queries and keys together, each head's
    rotation pairs side by side (see :func:`query_key_pair_order`). The tables
    are laid out whole, (..., T, 2, heads, D/2), because a multiply that
    broadcasts them over those axes runs in short pieces and costs more than
    one over contiguous rows (they are small: T x E).
    """

    def __init__(self, positions: torch.Tensor, inverse_frequencies: torch.Tensor,
                 heads: int) -> None:
        angles = positions[..., None].float() * inverse_frequencies  # (..., T, D/2)
        shape = (*angles.shape[:-1], 2, heads, angles.shape[-1])  # (..., T, 2, heads, D/2)
        self.angles = angles[..., None, None, :].expand(shape)
        self._turns: torch.Tensor | None = None  # complex e^(i angle), made when first used

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        pairs = x.unflatten(-1, (-1, 2))  # (B, T, 2, heads, D/2, 2): real and imaginary parts
        if fast_rotation_applies(x):
            if self._turns is None:
                self._turns = torch.polar(torch.ones_like(self.angles), self.angles).contiguous()
            turned = torch.view_as_complex(pairs) * self._turns
            return torch.view_as_real(turned).flatten(-2)
        real, imaginary = pairs.unbind(-1)
        cos, sin = self.angles.cos(), self.angles.sin()
        return torch.stack((real * cos - imaginary * sin, real * sin + imaginary * cos),
                           dim=-1).flatten(-2)


class SelfAttention(nn.Module):
    """Multi-head self-attention over the cached keys/values and the new tokens."""

    pair_order: torch.Tensor  # (3E,) the qkv rows' computing order, a buffer

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.head_dim = config.embed // config.heads
        self.qkv = nn.Linear(config.embed, 3 * config.embed, bias=config.bias)
        self.register_buffer("pair_order", query_key_pair_order(config.embed, config.heads),
                             persistent=False)
        self.proj = nn.Linear(config.embed, config.embed, bias=config.bias)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def queries_keys_values(
        self, x: torch.Tensor, rotation: Rotation
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, T, E) -> the new tokens' rotated queries and keys and their values, each
        (B, heads, T, D); queries and keys in the order of :func:`query_key_pair_order`."""
        B, T, E = x.shape
        bias = None if self.qkv.bias is None else self.qkv.bias.index_select(0, self.pair_order)
        qkv = F.linear(x, self.qkv.weight.index_select(0, self.pair_order), bias)  # (B, T, 3E)
        if cpu_autocast_is_on(qkv):
            qkv = qkv.float()
        qk, v = qkv.split((2 * E, E), dim=2)  # (B, T, 2E), (B, T, E)
        # queries and keys rotated together, one kernel each way for both
        qk = rotation(qk.view(B, T, 2, self.heads, self.head_dim))  # (B, T, 2, heads, D)
        q, k = (t.transpose(1, 2) for t in qk.unbind(2))  # each (B, heads, T, D)
        return q, k, v.view(B, T, self.heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        x: torch.Tensor,
        rotation: Rotation,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, T, E = x.shape
        q, k, v = self.queries_keys_values(x, rotation)  # each (B, heads, T, D)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)  # (B, heads, S + T, D)
            v = torch.cat((past[1], v), dim=2)
        in_float32 = (torch.autocast("cpu", enabled=False) if cpu_autocast_is_on(q)
                      else contextlib.nullcontext())  # see cpu_autocast_is_on
        with in_float32:
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
        rotation: Rotation,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        attended, k, v = self.attn(self.ln1(x), rotation, mask, past)
        x = x + attended
        return x + self.mlp(self.ln2(x)), k, v


class Transformer(nn.Module):
    """Mini GPT with rotary positions, a sliding attention window and a KV-cache step."""

    inverse_frequencies: torch.Tensor  # (head_dim / 2,) RoPE frequencies, a buffer

    def __init__(self, config: TransformerConfig, vocab_size: int) -> None:
        super().__init__()
        if config.embed % config.heads or (config.embed // config.heads) % 2:
            raise ValueError("transformer: embed must divide into heads of even width")
        if min(config.layers, config.block_size) <= 0:
            raise ValueError("transformer needs positive layers and block_size")
        self.config = config
        self.vocab_size = vocab_size
        self.state_names = (*(f"{kind}{layer}" for layer in range(config.layers)
                              for kind in ("keys", "values")), "position")
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
        """An empty cache: zero keys and values for every layer (all masked), position 0."""
        c = self.config
        weight = self.embedding.weight
        empty = weight.new_zeros(batch_size, c.heads, c.block_size, self.head_dim)
        position = torch.zeros(batch_size, dtype=torch.long, device=weight.device)
        return (*(empty.clone() for _ in range(2 * c.layers)), position)

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
            start = state[-1]  # (B,)
            positions = start[:, None] + steps  # (B, T) absolute
            slots = torch.arange(window, device=device) - window  # (S,) offsets before start
            key_positions = torch.cat((start[:, None] + slots, positions), dim=1)  # (B, S + T)
            pasts = list(zip(state[0:-1:2], state[1:-1:2], strict=True))  # (keys, values) a layer
        rotation = Rotation(positions, self.inverse_frequencies, self.config.heads)
        mask = None
        if state is not None or window < T:
            query = positions[..., :, None]  # (T, 1) or (B, T, 1)
            key = key_positions[..., None, :]  # (1, K) or (B, 1, K)
            mask = (key >= 0) & (key <= query) & (key > query - window)  # (T, K) or (B, T, K)
            if state is not None:
                mask = mask[:, None]  # (B, 1, T, K): alike for every head

        x = self.dropout(self.embedding(idx))  # (B, T, E)
        cache: list[torch.Tensor] = []
        for block, past in zip(self.blocks, pasts, strict=True):
            x, k, v = block(x, rotation, mask, past)  # k, v: (B, heads, K, D)
            cache += [self._last_window(k), self._last_window(v)]
        logits = F.linear(self.ln_f(x), self.embedding.weight)  # (B, T, V)
        position = (
            torch.full((B,), T, dtype=torch.long, device=device) if start is None else start + T
        )
        return logits, (*cache, position)

    def inspect(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """Where each head looks while reading ``idx`` (1, T) from an empty cache.

        ``"attention"`` (layers, heads, T, T): row t is the distribution of position t's
        query over the keys, softmax(q . k / sqrt(head_dim)) with the rotary embedding
        applied exactly as :meth:`forward` does and the sliding-window causal mask (zero
        above the diagonal and more than ``block_size - 1`` tokens back). Eval mode: no
        dropout on the weights or on the residual stream that feeds the next layer.
        """
        T = single_sequence(idx)
        window = self.config.block_size
        steps = torch.arange(T, device=idx.device)
        key, query = steps[None, :], steps[:, None]
        allowed = (key <= query) & (key > query - window)  # (T, T), as forward's mask
        mask = allowed if window < T else None  # what forward passes the blocks
        maps = []
        with torch.no_grad(), evaluating(self):
            rotation = Rotation(steps, self.inverse_frequencies, self.config.heads)
            x = self.embedding(idx)  # (1, T, E)
            for block in self.blocks:
                assert isinstance(block, Block)
                q, k, _ = block.attn.queries_keys_values(block.ln1(x), rotation)
                scores = q[0].float() @ k[0].float().transpose(-2, -1) / math.sqrt(self.head_dim)
                maps.append(scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1))
                x, _, _ = block(x, rotation, mask, None)  # the next layer's input
        return {"attention": torch.stack(maps).cpu()}  # (layers, heads, T, T)

    def _last_window(self, entries: torch.Tensor) -> torch.Tensor:
        """(B, heads, K, D) cut to its last ``block_size`` entries along K, zero-padded at
        the front when K is shorter: (B, heads, block_size, D).

        A training window (K = block_size) is returned as it is, with no copy; a longer
        prompt's is copied, so the state does not keep the whole prompt's keys alive.
        """
        window = self.config.block_size
        length = entries.shape[2]
        if length == window:
            return entries
        if length > window:
            return entries[:, :, length - window :].contiguous()
        return F.pad(entries, (0, 0, window - length, 0))
