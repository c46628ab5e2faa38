"""``inspect(idx)``: what each built-in architecture computes inside, checked against forward."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

VOCAB = 13
T = 11  # longer than the transformer's window and the wavenet's reach below

SMALL = {  # dropout on, so the views must be taken without it
    "bigram": {},
    "rnn": {"embed": 8, "hidden": 12, "layers": 2, "dropout": 0.5},
    "lstm": {"embed": 8, "hidden": 12, "layers": 2, "dropout": 0.5},
    "gru": {"embed": 8, "hidden": 12, "layers": 2, "dropout": 0.5},
    "gru-tied": {"embed": 8, "hidden": 12, "layers": 2, "dropout": 0.5},
    "transformer": {"embed": 16, "layers": 2, "heads": 2, "block_size": 8, "dropout": 0.5},
    "mlp": {"context": 3, "embed": 4, "hidden": 10, "dropout": 0.5},
    "wavenet": {"channels": 8, "layers": 3, "dropout": 0.5},
}
GATES = {"input gate", "forget gate", "output gate", "reset gate", "update gate", "gate"}


def _model(registry, name):
    component = registry.get("architecture", name)
    config = component.config(**SMALL[name]) if name in SMALL else component.default_config()
    torch.manual_seed(0)
    model = component.load_factory()(config, VOCAB)
    with torch.no_grad():  # away from the near-uniform start, so the checks bite
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    return model.eval()


def _idx():
    return torch.randint(0, VOCAB, (1, T), generator=torch.Generator().manual_seed(1))


def test_views_have_the_allowed_shapes(registry, architecture_name):
    model = _model(registry, architecture_name)
    views = model.inspect(_idx())
    assert views
    for key, view in views.items():
        assert isinstance(key, str) and key
        assert isinstance(view, torch.Tensor) and view.dtype == torch.float32
        assert view.device.type == "cpu" and not view.requires_grad
        assert torch.isfinite(view).all(), key
        if view.dim() == 3:
            assert view.shape[1] == T, key  # (layers, T, units)
        elif view.dim() == 4:
            assert view.shape[0] >= 1 and view.shape[1] >= 1, key  # (layers, heads, T, T)
            assert view.shape[2:] == (T, T), key
        else:
            assert view.dim() == 2 and view.shape[1] == VOCAB, key
            assert view.shape[0] in (T, VOCAB), key  # (T, V) or (V, V)


def test_inspect_changes_neither_logits_nor_modes_and_ignores_dropout(registry,
                                                                      architecture_name):
    model = _model(registry, architecture_name)
    idx = _idx()
    with torch.no_grad():
        before, _ = model(idx)
    evaluated = model.inspect(idx)
    with torch.no_grad():
        after, _ = model(idx)
    assert torch.equal(before, after)
    model.train()
    trained = model.inspect(idx)  # dropout is on in training mode; inspect must not use it
    assert all(module.training for module in model.modules())
    assert evaluated.keys() == trained.keys()
    for key in evaluated:
        assert torch.allclose(evaluated[key], trained[key], atol=1e-6), key


def test_every_builtin_names_its_views(registry):
    expected = {
        "bigram": {"next-token probabilities"},
        "rnn": {"hidden state"},
        "lstm": {"input gate", "forget gate", "cell candidate", "output gate", "cell state",
                 "hidden state"},
        "gru": {"reset gate", "update gate", "candidate", "hidden state"},
        "gru-tied": {"reset gate", "update gate", "candidate", "hidden state"},
        "transformer": {"attention"},
        "mlp": {"hidden layer"},
        "wavenet": {"gate", "activation"},
    }
    for name, keys in expected.items():
        assert set(_model(registry, name).inspect(_idx())) == keys, name


def test_gates_lie_in_zero_one(registry, architecture_name):
    views = _model(registry, architecture_name).inspect(_idx())
    gates = [key for key in views if key in GATES]
    for key in gates:
        assert views[key].min() >= 0 and views[key].max() <= 1, key
        assert views[key].std() > 0, key  # not a constant


def test_inspect_reads_one_sequence(registry):
    model = _model(registry, "gru")
    with pytest.raises(ValueError, match=r"\(1, T\)"):
        model.inspect(torch.zeros(2, 5, dtype=torch.long))


def _final_state(model, idx):
    with torch.no_grad():
        return model(idx)[1]


def test_rnn_hidden_state_is_the_returned_state(registry):
    model = _model(registry, "rnn")
    idx = _idx()
    hidden = model.inspect(idx)["hidden state"]  # (layers, T, H)
    (h,) = _final_state(model, idx)  # (layers, 1, H)
    assert torch.allclose(hidden[:, -1], h[:, 0], atol=1e-5)
    out = []
    model.rnn.register_forward_hook(lambda _m, _i, output: out.append(output[0]))
    _final_state(model, idx)
    assert torch.allclose(hidden[-1], out[0][0], atol=1e-5)  # every position of the top layer


def test_lstm_cell_and_hidden_state_follow_from_the_gates(registry):
    model = _model(registry, "lstm")
    idx = _idx()
    v = model.inspect(idx)
    i, f, g, o = v["input gate"], v["forget gate"], v["cell candidate"], v["output gate"]
    c = torch.zeros_like(i[:, 0])
    for t in range(T):
        c = f[:, t] * c + i[:, t] * g[:, t]
        assert torch.allclose(c, v["cell state"][:, t], atol=1e-5)
        assert torch.allclose(o[:, t] * torch.tanh(c), v["hidden state"][:, t], atol=1e-5)
    h_model, c_model = _final_state(model, idx)
    assert torch.allclose(o[:, -1] * torch.tanh(c), h_model[:, 0], atol=1e-5)
    assert torch.allclose(c, c_model[:, 0], atol=1e-5)
    assert f.std() > 0.05 and i.std() > 0.05  # the gate order is not swapped into a constant


def test_lstm_gate_order_is_pytorchs(registry):
    """Forcing the forget gate's bias rows (the second quarter) shut must show in "forget gate"."""
    model = _model(registry, "lstm")
    H = model.config.hidden
    with torch.no_grad():
        model.rnn.bias_ih_l0[H : 2 * H] = -50.0
    v = model.inspect(_idx())
    assert v["forget gate"][0].max() < 1e-6
    assert v["input gate"][0].max() > 0.5 and v["output gate"][0].max() > 0.5


@pytest.mark.parametrize("name", ["gru", "gru-tied"])
def test_gru_hidden_state_follows_from_the_gates(registry, name):
    model = _model(registry, name)
    gru = model.rnn if name == "gru" else model.gru
    idx = _idx()
    v = model.inspect(idx)
    r, z, n = v["reset gate"], v["update gate"], v["candidate"]
    h = torch.zeros_like(z[:, 0])
    x = model.embedding(idx)[0].detach()  # layer 0's input
    H = gru.hidden_size
    with torch.no_grad():
        for t in range(T):
            # the candidate of layer 0 from the reset gate and PyTorch's formula
            w_in, w_hn = gru.weight_ih_l0[2 * H :], gru.weight_hh_l0[2 * H :]
            b_in, b_hn = gru.bias_ih_l0[2 * H :], gru.bias_hh_l0[2 * H :]
            expected_n = torch.tanh(x[t] @ w_in.T + b_in + r[0, t] * (h[0] @ w_hn.T + b_hn))
            assert torch.allclose(n[0, t], expected_n, atol=1e-5)
            h = (1 - z[:, t]) * n[:, t] + z[:, t] * h
            assert torch.allclose(h, v["hidden state"][:, t], atol=1e-5)
    (h_model,) = _final_state(model, idx)
    assert torch.allclose(h, h_model[:, 0], atol=1e-5)


def test_gru_update_gate_is_the_second_chunk(registry):
    model = _model(registry, "gru")
    H = model.config.hidden
    with torch.no_grad():
        model.rnn.bias_hh_l1[H : 2 * H] = 50.0  # update gate of layer 1 wide open
    v = model.inspect(_idx())
    assert v["update gate"][1].min() > 1 - 1e-6
    assert v["reset gate"][1].min() < 0.99


def test_transformer_attention_rows_are_causal_windowed_distributions(registry):
    model = _model(registry, "transformer")
    attention = model.inspect(_idx())["attention"]  # (layers, heads, T, T)
    assert attention.shape == (2, 2, T, T)
    assert torch.allclose(attention.sum(-1), torch.ones(2, 2, T), atol=1e-5)
    steps = torch.arange(T)
    above = steps[None, :] > steps[:, None]
    too_far = steps[None, :] <= steps[:, None] - model.config.block_size
    assert (attention[..., above] == 0).all()
    assert (attention[..., too_far] == 0).all()
    assert (attention[..., ~(above | too_far)] > 0).all()


def test_transformer_attention_times_values_is_the_models_attention_output(registry):
    """For every layer, attention @ V equals what the forward feeds the output projection, and
    for layer 0 what F.scaled_dot_product_attention gives when called the model's way."""
    from zoo_plugins.architectures.transformer import Rotation

    model = _model(registry, "transformer")
    idx = _idx()
    attention = model.inspect(idx)["attention"]
    inputs, outputs = [], []
    for block in model.blocks:
        block.attn.register_forward_pre_hook(lambda _m, args: inputs.append(args))
        block.attn.proj.register_forward_pre_hook(lambda _m, args: outputs.append(args[0]))
    _final_state(model, idx)
    heads, D = model.config.heads, model.head_dim
    with torch.no_grad():
        for layer, block in enumerate(model.blocks):
            x, rotation, mask, _ = inputs[layer]
            q, k, v = block.attn.queries_keys_values(x, rotation)  # (1, heads, T, D)
            mine = (attention[layer] @ v[0]).transpose(0, 1).reshape(T, heads * D)
            assert torch.allclose(mine, outputs[layer][0], atol=1e-5), layer
        # layer 0 from scratch: rotary positions 0..T-1, the sliding-window mask
        block = model.blocks[0]
        steps = torch.arange(T)
        rotation = Rotation(steps, model.inverse_frequencies, heads)
        q, k, v = block.attn.queries_keys_values(block.ln1(model.embedding(idx)), rotation)
        window = (steps[None, :] <= steps[:, None]) & (
            steps[None, :] > steps[:, None] - model.config.block_size)
        expected = F.scaled_dot_product_attention(q, k, v, attn_mask=window)[0]
        assert torch.allclose(attention[0] @ v[0], expected, atol=1e-5)
        manual = (q @ k.transpose(-2, -1) / math.sqrt(D)).masked_fill(~window, -math.inf)
        assert torch.allclose(attention[0], manual.softmax(-1)[0], atol=1e-6)


def test_bigram_probabilities_are_softmax_of_its_logits(registry):
    model = _model(registry, "bigram")
    probabilities = model.inspect(_idx())["next-token probabilities"]
    assert torch.allclose(probabilities.sum(-1), torch.ones(VOCAB), atol=1e-6)
    with torch.no_grad():
        logits, _ = model(torch.arange(VOCAB)[None])
    assert torch.allclose(probabilities, logits[0].softmax(-1), atol=1e-6)


def test_mlp_hidden_layer_gives_the_logits(registry):
    model = _model(registry, "mlp")
    idx = _idx()
    hidden = model.inspect(idx)["hidden layer"]  # (1, T, H)
    assert hidden.shape == (1, T, model.config.hidden)
    assert hidden.abs().max() <= 1
    with torch.no_grad():
        logits, _ = model(idx)
        assert torch.allclose(model.head(hidden[0]), logits[0], atol=1e-5)


def test_wavenet_gates_are_the_forwards_gates(registry):
    model = _model(registry, "wavenet")
    idx = _idx()
    views = model.inspect(idx)
    C = model.config.channels
    convolved = []
    for block in model.blocks:
        block.conv.register_forward_hook(lambda _m, _i, out: convolved.append(out[0]))
    _final_state(model, idx)
    for layer, out in enumerate(convolved):
        filter_, gate = out.split(C, dim=-1)
        assert torch.allclose(views["gate"][layer], torch.sigmoid(gate), atol=1e-6)
        assert torch.allclose(views["activation"][layer],
                              torch.tanh(filter_) * torch.sigmoid(gate), atol=1e-6)
