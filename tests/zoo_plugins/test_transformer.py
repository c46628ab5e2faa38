"""The transformer's rotary embedding and cache, checked against their definitions."""

from __future__ import annotations

import pytest
import torch

from zoo_plugins.architectures.configs import TransformerConfig
from zoo_plugins.architectures.transformer import Transformer, rotary_tables, rotate


def test_rotate_is_the_halves_rotation_bit_for_bit():
    """rotate(x) is (x1 cos - x2 sin, x2 cos + x1 sin) of the halves, to the last bit,
    for one (T,) set of positions and for per-row (B, T) positions alike."""
    torch.manual_seed(0)
    B, T, heads, D = 3, 7, 2, 8
    inverse_frequencies = 1.0 / (10000 ** (torch.arange(0, D, 2).float() / D))
    x = torch.randn(B, T, 2, heads, D)
    for positions in (torch.arange(T), torch.tensor([[0], [5], [300]]) + torch.arange(T)):
        angles = positions[..., None].float() * inverse_frequencies  # (..., T, D/2)
        cos = angles.cos()[..., None, None, :]  # (..., T, 1, 1, D/2)
        sin = angles.sin()[..., None, None, :]
        x1, x2 = x[..., : D // 2], x[..., D // 2 :]
        expected = torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
        assert torch.equal(rotate(x, *rotary_tables(positions, inverse_frequencies, heads)),
                           expected)


@pytest.mark.parametrize("length", [5, 8, 13])  # shorter than, equal to, longer than the window
def test_full_forward_leaves_the_state_stepping_leaves(length):
    """One forward over `length` tokens leaves the cache that stepping through them leaves."""
    torch.manual_seed(0)
    model = Transformer(TransformerConfig(embed=16, layers=2, heads=2, block_size=8), 11).eval()
    idx = torch.randint(0, 11, (2, length))
    with torch.no_grad():
        _, full = model(idx)
        state = model.init_state(2)
        for t in range(length):
            _, state = model(idx[:, t : t + 1], state)
    assert full[0].shape == state[0].shape == (2, 2, 2, 8, 8)
    for got, want in zip(full, state, strict=True):
        assert torch.allclose(got, want, atol=1e-6)
    assert full[2].tolist() == [length, length]
