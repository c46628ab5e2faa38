"""``gru-tied``: stacked GRU whose output layer reuses the embedding matrix."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from zoo_plugins.architectures.configs import GRUTiedConfig
from zoo_plugins.architectures.gru_tied import GRUTied

V = 11


def make(embed: int = 16, hidden: int = 16, layers: int = 2, dropout: float = 0.1) -> GRUTied:
    torch.manual_seed(0)
    return GRUTied(GRUTiedConfig(embed=embed, hidden=hidden, layers=layers, dropout=dropout), V)


def gru_parameter_count(embed: int, hidden: int, layers: int) -> int:
    # per layer: input-hidden and hidden-hidden matrices for 3 gates, plus their 2 biases
    count = 0
    for layer in range(layers):
        width = embed if layer == 0 else hidden
        count += 3 * hidden * width + 3 * hidden * hidden + 2 * 3 * hidden
    return count


@pytest.mark.parametrize(("embed", "hidden"), [(16, 16), (12, 20)])
def test_forward_shapes(embed, hidden):
    model = make(embed=embed, hidden=hidden, layers=3)
    logits, state = model(torch.randint(0, V, (4, 7)))
    assert logits.shape == (4, 7, V)
    assert len(state) == 1
    assert state[0].shape == (3, 4, hidden)


@pytest.mark.parametrize(("embed", "hidden"), [(16, 16), (12, 20)])
def test_backward_reaches_every_parameter(embed, hidden):
    model = make(embed=embed, hidden=hidden)
    logits, _ = model(torch.randint(0, V, (3, 5)))
    nn.functional.cross_entropy(logits.reshape(-1, V), torch.randint(0, V, (15,))).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize(("embed", "hidden"), [(16, 16), (12, 20)])
def test_no_separate_output_weight(embed, hidden):
    model = make(embed=embed, hidden=hidden)
    vocab_by_embed = [
        name for name, p in model.named_parameters() if p.shape in ((V, embed), (embed, V))
    ]
    assert vocab_by_embed == ["embedding.weight"]
    projection = hidden * embed if hidden != embed else 0
    expected = V * embed + gru_parameter_count(embed, hidden, 2) + projection + V  # V: bias
    assert sum(p.numel() for p in model.parameters()) == expected


def test_output_layer_reads_the_embedding_matrix():
    """Changing the embedding row of a token absent from the input changes only its logit."""
    model = make().eval()
    idx = torch.randint(0, V - 1, (2, 6))  # never token V - 1
    with torch.no_grad():
        before, _ = model(idx)
        model.embedding.weight[V - 1] += 1.0
        after, _ = model(idx)
    assert not torch.allclose(before[..., V - 1], after[..., V - 1])
    torch.testing.assert_close(before[..., : V - 1], after[..., : V - 1])


def test_projection_exists_only_when_sizes_differ():
    assert isinstance(make(embed=16, hidden=16).projection, nn.Identity)
    model = make(embed=12, hidden=20)
    assert isinstance(model.projection, nn.Linear)
    assert model.projection.weight.shape == (12, 20)  # hidden -> embed


@pytest.mark.parametrize(("embed", "hidden"), [(16, 16), (12, 20)])
def test_stepping_one_token_at_a_time_equals_full_forward(embed, hidden):
    model = make(embed=embed, hidden=hidden, dropout=0.3).eval()
    idx = torch.randint(0, V, (3, 9))
    with torch.no_grad():
        full, full_state = model(idx)
        state = model.init_state(3)
        steps = []
        for t in range(idx.shape[1]):
            logits, state = model(idx[:, t : t + 1], state)
            steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=0)
    torch.testing.assert_close(state[0], full_state[0], atol=1e-5, rtol=0)


def test_init_state_is_what_forward_uses_without_state():
    model = make().eval()
    idx = torch.randint(0, V, (2, 5))
    (h,) = model.init_state(2)
    assert h.shape == (2, 2, 16)
    assert not h.any()
    with torch.no_grad():
        implicit, implicit_state = model(idx)
        explicit, explicit_state = model(idx, model.init_state(2))
    torch.testing.assert_close(implicit, explicit, atol=0, rtol=0)
    torch.testing.assert_close(implicit_state[0], explicit_state[0], atol=0, rtol=0)


@pytest.mark.parametrize("field", ["embed", "hidden", "layers"])
def test_non_positive_sizes_are_rejected(field):
    with pytest.raises(ValueError):
        GRUTied(GRUTiedConfig(**{field: 0}), V)
