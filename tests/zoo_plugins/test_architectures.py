"""The built-in architectures: their states and the transformer's window.

Every registered architecture meets the model contract in tests/test_contracts.py.
"""

from __future__ import annotations

import pytest
import torch

from zoo.sampling.loop import SamplingSettings
from zoo.sampling.torch_sampler import generate


def test_all_eight_builtins_are_registered(registry):
    assert {"bigram", "rnn", "lstm", "gru", "gru-tied", "transformer", "mlp",
            "wavenet"} <= set(registry.names("architecture"))


@pytest.mark.parametrize(("name", "expected"), [
    ("bigram", ()), ("rnn", ("h",)), ("gru", ("h",)), ("lstm", ("h", "c")),
    ("gru-tied", ("h",)),
    ("transformer", ("keys0", "values0", "keys1", "values1", "keys2", "values2",
                     "keys3", "values3", "position")),
    ("mlp", ("window",)),
    ("wavenet", ("buffer0", "buffer1", "buffer2", "buffer3", "buffer4", "buffer5")),
])
def test_state_is_what_the_docs_say(registry, name, expected):
    component = registry.get("architecture", name)
    model = component.load_factory()(component.default_config(), 11)
    assert model.state_names == expected
    assert len(model.init_state(3)) == len(expected)


def _small_transformer(registry, block_size=8):
    component = registry.get("architecture", "transformer")
    config = component.config(embed=32, layers=2, heads=4, block_size=block_size)
    torch.manual_seed(0)
    return component.load_factory()(config, 13).eval()


def test_transformer_steps_exactly_past_its_window(registry):
    """The sliding window: stepping far past block_size still equals one full forward."""
    model = _small_transformer(registry, block_size=8)
    idx = torch.randint(0, 13, (2, 30))
    with torch.no_grad():
        full, _ = model(idx)
        first, state = model(idx[:, :5])  # a prompt, then chunks and single steps
        middle, state = model(idx[:, 5:17], state)
        rest = []
        for t in range(17, 30):
            logits, state = model(idx[:, t : t + 1], state)
            rest.append(logits)
    stepped = torch.cat([first, middle, *rest], dim=1)
    assert (full - stepped).abs().max().item() < 1e-5
    assert state[-1].tolist() == [30, 30]


def test_transformer_window_limits_what_a_token_sees(registry):
    """Each layer looks back block_size - 1 tokens, so with 2 layers and a window of 8, the
    last of 20 tokens (position 19) depends on positions 5..19 only."""
    model = _small_transformer(registry, block_size=8)
    idx = torch.randint(0, 13, (1, 20))
    changed = idx.clone()
    changed[0, :5] = (changed[0, :5] + 1) % 13  # only tokens beyond the two-layer reach
    with torch.no_grad():
        a, _ = model(idx)
        b, _ = model(changed)
    assert torch.allclose(a[0, -1], b[0, -1], atol=1e-6)
    assert not torch.allclose(a[0, 12], b[0, 12], atol=1e-6)  # 12 reaches back to 0


class _Digits:
    """A minimal tokenizer over the 13 ids, for sampling tests."""

    vocab_size = 13

    def encode(self, text):
        return [int(ch, 16) for ch in text]

    def decode(self, ids):
        return "".join(format(i, "x") for i in ids)


def test_sampler_past_the_window_agrees_with_full_forward_greedy(registry):
    model = _small_transformer(registry, block_size=8)
    [text] = generate(model, _Digits(), prompt="123", max_new_tokens=20,
                      settings=SamplingSettings(temperature=0))
    ids = [1, 2, 3]
    with torch.no_grad():
        for _ in range(20):
            logits, _ = model(torch.tensor([ids]))
            ids.append(int(logits[0, -1].argmax()))
    assert text == _Digits().decode(ids[3:])
