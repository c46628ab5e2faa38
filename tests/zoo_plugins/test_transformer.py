"""The transformer's rotary embedding and cache, checked against their definitions."""

from __future__ import annotations

import pytest
import torch

from zoo_plugins.architectures.configs import TransformerConfig
from zoo_plugins.architectures.transformer import Transformer


def halves_reference_logits(model: Transformer, idx: torch.Tensor) -> torch.Tensor:
    """The transformer written out plainly, with rotary embedding in the halves convention
    (element i of a head turns with element i + D/2) on the stored, unreordered weights:
    what every checkpoint the transformer has ever written means."""
    B, T = idx.shape
    c = model.config
    D = c.embed // c.heads
    angles = torch.arange(T)[:, None].float() * model.inverse_frequencies  # (T, D/2)
    cos, sin = angles.cos(), angles.sin()

    def rotate_halves(t: torch.Tensor) -> torch.Tensor:  # (B, heads, T, D)
        first, second = t[..., : D // 2], t[..., D // 2 :]
        return torch.cat((first * cos - second * sin, first * sin + second * cos), dim=-1)

    x = model.embedding(idx)
    for block in model.blocks:
        q, k, v = (t.view(B, T, c.heads, D).transpose(1, 2)
                   for t in block.attn.qkv(block.ln1(x)).split(c.embed, dim=2))
        attended = torch.nn.functional.scaled_dot_product_attention(
            rotate_halves(q), rotate_halves(k), v, is_causal=True)
        x = x + block.attn.proj(attended.transpose(1, 2).reshape(B, T, c.embed))
        x = x + block.mlp(block.ln2(x))
    return torch.nn.functional.linear(model.ln_f(x), model.embedding.weight)


@pytest.mark.parametrize("rotation", ["complex", "real"])
def test_the_model_computes_the_halves_rotary_embedding(rotation, monkeypatch):
    """Both ways of rotating (complex numbers in training, real arithmetic where ONNX,
    autocast or MPS need it) give the logits of the plain halves-convention transformer."""
    from zoo_plugins.architectures import transformer

    if rotation == "real":
        monkeypatch.setattr(transformer, "fast_rotation_applies", lambda x: False)
    torch.manual_seed(0)
    model = Transformer(TransformerConfig(embed=24, layers=2, heads=3, block_size=16,
                                          bias=True), 13).eval()
    for parameter in model.parameters():  # biases too, which start at zero
        torch.nn.init.normal_(parameter, std=0.3)
    idx = torch.randint(0, 13, (2, 16))
    with torch.no_grad():
        logits, _ = model(idx)
        assert torch.allclose(logits, halves_reference_logits(model, idx), atol=1e-5)


def test_cpu_autocast_keeps_attention_in_float32(monkeypatch):
    """Under CPU bfloat16 autocast the projections compute in bfloat16 and attention in
    float32 (PyTorch's bfloat16 attention backward is slow on the CPU); the logits stay
    close to float32's and gradients reach every weight."""
    seen = []
    original = torch.nn.functional.scaled_dot_product_attention

    def recording_attention(q, k, v, **options):
        out = original(q, k, v, **options)  # autocast would cast its inputs here
        seen.append(out.dtype)
        return out

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        recording_attention)
    torch.manual_seed(0)
    model = Transformer(TransformerConfig(embed=32, layers=2, heads=4, block_size=16), 13)
    idx = torch.randint(0, 13, (2, 16))
    want, _ = model(idx)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, _ = model(idx)
    got.float().sum().backward()
    assert seen[2:] == [torch.float32] * 2  # the autocast forward's two layers
    assert got.dtype == torch.bfloat16  # the output layer ran in bfloat16
    assert torch.allclose(got.float(), want, atol=0.1)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_both_rotations_agree_when_stepping_from_a_cache(monkeypatch):
    """A cache filled with the fast rotation serves steps taken with the real one:
    both keep keys in the same order."""
    from zoo_plugins.architectures import transformer

    torch.manual_seed(0)
    model = Transformer(TransformerConfig(embed=16, layers=2, heads=2, block_size=8), 11).eval()
    idx = torch.randint(0, 11, (2, 12))
    with torch.no_grad():
        want, _ = model(idx[:, 8:], model(idx[:, :8])[1])
        _, cache = model(idx[:, :8])
        monkeypatch.setattr(transformer, "fast_rotation_applies", lambda x: False)
        got, _ = model(idx[:, 8:], cache)
    assert torch.allclose(got, want, atol=1e-6)


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
    assert len(full) == len(state) == 2 * 2 + 1
    assert full[0].shape == state[0].shape == (2, 2, 8, 8)
    for got, want in zip(full, state, strict=True):
        assert torch.allclose(got, want, atol=1e-6)
    assert full[-1].tolist() == [length, length]
