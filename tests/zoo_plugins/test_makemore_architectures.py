"""``mlp`` and ``wavenet``, makemore's fixed-context models: their state, stepping, training
through the CLI and the ONNX step."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.config.values import InvalidValue
from zoo.models.loading import load_run
from zoo.runs.run_directory import read_metrics
from zoo_plugins.architectures.configs import MLPConfig, WaveNetConfig
from zoo_plugins.architectures.mlp import MLP
from zoo_plugins.architectures.wavenet import WaveNet

V = 13


def make_mlp(context: int = 4, dropout: float = 0.0) -> MLP:
    torch.manual_seed(0)
    return MLP(MLPConfig(context=context, embed=8, hidden=16, dropout=dropout), V).eval()


def make_wavenet(layers: int = 3, dropout: float = 0.0) -> WaveNet:
    torch.manual_seed(0)
    return WaveNet(WaveNetConfig(channels=8, layers=layers, dropout=dropout), V).eval()


def stepped(model: MLP | WaveNet, idx: torch.Tensor) -> tuple[torch.Tensor, tuple]:
    """Logits (B, T, V) of feeding ``idx`` one token at a time from ``init_state``, and the
    final state."""
    state = model.init_state(idx.shape[0])
    pieces = []
    with torch.no_grad():
        for t in range(idx.shape[1]):
            logits, state = model(idx[:, t : t + 1], state)
            pieces.append(logits)
    return torch.cat(pieces, dim=1), state


# --- mlp -------------------------------------------------------------------------------


def test_mlp_state_is_the_last_context_tokens_shifted_by_one():
    model = make_mlp(context=4)
    (initial,) = model.init_state(3)
    assert initial.dtype == torch.int64 and initial.shape == (3, 4) and not initial.any()
    idx = torch.tensor([[3, 1, 4, 1, 5, 9], [2, 6, 5, 3, 0, 8]])
    with torch.no_grad():
        _, (window,) = model(idx)
        _, (short,) = model(idx[:, :2])  # fewer tokens than the context: padding in front
    assert window.tolist() == [[5, 2, 6, 10], [6, 4, 1, 9]]
    assert short.tolist() == [[0, 0, 4, 2], [0, 0, 3, 7]]


def test_mlp_stepping_equals_one_full_forward():
    model = make_mlp(context=4, dropout=0.3)  # eval mode: dropout off
    idx = torch.randint(0, V, (3, 11))
    with torch.no_grad():
        full, (full_window,) = model(idx)
    steps, (step_window,) = stepped(model, idx)
    torch.testing.assert_close(steps, full, atol=1e-6, rtol=0)
    assert torch.equal(step_window, full_window)


def test_mlp_each_position_reads_exactly_its_window():
    """With a context of 4, changing token 3 changes the logits at positions 3..6 only."""
    model = make_mlp(context=4)
    idx = torch.randint(0, V, (1, 10))
    changed = idx.clone()
    changed[0, 3] = (changed[0, 3] + 1) % V
    with torch.no_grad():
        a, _ = model(idx)
        b, _ = model(changed)
    differs = [not torch.allclose(a[0, t], b[0, t]) for t in range(10)]
    assert differs == [t in range(3, 7) for t in range(10)]


def test_mlp_padding_is_not_a_real_token():
    """The first token reads padding where a later one reads real tokens, even token 0."""
    model = make_mlp(context=4)
    assert model.embedding.num_embeddings == V + 1  # one learned row for padding
    with torch.no_grad():
        at_start, _ = model(torch.tensor([[5]]))  # window: pad, pad, pad, 5
        after_zeros, _ = model(torch.tensor([[0, 0, 0, 5]]))  # window: 0, 0, 0, 5
    assert not torch.allclose(at_start[0, -1], after_zeros[0, -1])


def test_mlp_is_embeddings_concatenated_into_one_hidden_layer():
    model = make_mlp(context=4)
    embed, hidden, context = 8, 16, 4
    expected = (V + 1) * embed + context * embed * hidden + hidden + hidden * V + V
    assert sum(p.numel() for p in model.parameters()) == expected
    assert model.hidden.in_features == context * embed


# --- wavenet ---------------------------------------------------------------------------


def test_wavenet_buffers_hold_each_layers_last_inputs():
    model = make_wavenet(layers=3)
    initial = model.init_state(2)
    assert model.state_names == ("buffer0", "buffer1", "buffer2")
    assert [tuple(b.shape) for b in initial] == [(2, 1, 8), (2, 2, 8), (2, 4, 8)]
    assert all(b.dtype == torch.float32 and not b.any() for b in initial)
    idx = torch.randint(0, V, (2, 9))
    with torch.no_grad():
        _, state = model(idx)
    assert [tuple(b.shape) for b in state] == [(2, 1, 8), (2, 2, 8), (2, 4, 8)]
    # layer 0's input is the token embedding: its buffer is the last token's embedding
    torch.testing.assert_close(state[0][:, 0], model.embedding(idx[:, -1]).detach())


def test_wavenet_stepping_equals_one_full_forward():
    model = make_wavenet(layers=3, dropout=0.3)  # eval mode: dropout off
    idx = torch.randint(0, V, (3, 13))  # longer than the 8-token receptive field
    with torch.no_grad():
        full, full_state = model(idx)
    steps, step_state = stepped(model, idx)
    torch.testing.assert_close(steps, full, atol=1e-5, rtol=0)
    for step_buffer, full_buffer in zip(step_state, full_state, strict=True):
        torch.testing.assert_close(step_buffer, full_buffer, atol=1e-5, rtol=0)


def test_wavenet_sees_exactly_its_receptive_field():
    """3 layers of dilations 1, 2, 4 see 8 tokens: the last of 20 depends on 12..19 only."""
    model = make_wavenet(layers=3)
    idx = torch.randint(0, V, (1, 20))
    with torch.no_grad():
        reference, _ = model(idx)
        for position, reaches in [(11, False), (12, True)]:
            changed = idx.clone()
            changed[0, position] = (changed[0, position] + 1) % V
            logits, _ = model(changed)
            assert (not torch.allclose(logits[0, -1], reference[0, -1])) == reaches, position


# --- configs ---------------------------------------------------------------------------


@pytest.mark.parametrize(("config", "key", "value"), [
    (MLPConfig, "context", 0), (MLPConfig, "embed", 0), (MLPConfig, "hidden", -1),
    (MLPConfig, "dropout", 1.0), (WaveNetConfig, "channels", 0), (WaveNetConfig, "layers", 0),
    (WaveNetConfig, "layers", 17),
])
def test_configs_refuse_bad_values_by_name(config, key, value):
    with pytest.raises(InvalidValue) as raised:
        config(**{key: value})
    assert raised.value.key == key


def test_a_bad_value_on_the_command_line_is_one_line_error(registry, small_corpus, tmp_path):
    result = CliRunner().invoke(cli, ["train", "wavenet", "--data", str(small_corpus), "--out",
                                      str(tmp_path / "run"), "--set", "model.layers=17"],
                                obj=registry)
    assert "layers" in one_line_error(result)


# --- through the CLI: train, then export the ONNX step ---------------------------------

SMALL = {"mlp": ["--set", "model.context=4", "--set", "model.embed=32",
                 "--set", "model.hidden=64"],
         "wavenet": ["--set", "model.channels=32", "--set", "model.layers=3"]}
#: each model's state in the manifest: name and shape, batch first
STATE = {"mlp": [("window", "int64", ["batch", 4])],
         "wavenet": [(f"buffer{n}", "float32", ["batch", 2**n, 32]) for n in range(3)]}


@pytest.fixture(scope="module")
def trained(registry, small_corpus, tmp_path_factory):
    """A 20-step run of each model (trained once), with its ONNX export."""
    made: dict[str, tuple[Path, Path]] = {}

    def train(name: str) -> tuple[Path, Path]:
        if name not in made:
            run, out = tmp_path_factory.mktemp(name) / "run", tmp_path_factory.mktemp(name) / "x"
            result = CliRunner().invoke(cli, [
                "train", name, "--data", str(small_corpus), "--out", str(run), "--steps", "20",
                "--batch-size", "8", "--set", "train.block_size=16", "--device", "cpu",
                "--no-progress", "--set", "train.eval_interval=20", "--set",
                "train.eval_batches=2", *SMALL[name]], obj=registry)
            assert result.exit_code == 0, result.output
            result = CliRunner().invoke(cli, ["export", str(run), "--onnx", "--out", str(out),
                                              "--set", "export.parity_steps=32"], obj=registry)
            assert result.exit_code == 0, result.output
            made[name] = (run, out)
        return made[name]

    return train


@pytest.mark.parametrize("name", ["mlp", "wavenet"])
def test_twenty_steps_of_training_beat_the_uniform_guess(registry, trained, name):
    run, _ = trained(name)
    [evaluation] = [m for m in read_metrics(run) if m["split"] == "val"]
    uniform = math.log(load_run(registry, run).vocab_size)
    assert evaluation["loss"] < uniform - 0.4, (evaluation["loss"], uniform)


@pytest.mark.parametrize("name", ["mlp", "wavenet"])
def test_onnx_state_grows_with_the_batch_along_its_first_axis_only(registry, trained, name):
    import onnx
    import onnxruntime

    run, out = trained(name)
    manifest = json.loads((out / "manifest.json").read_text())
    inputs = {t["name"]: t for t in manifest["inputs"]}
    assert [(w["input"], inputs[w["input"]]["dtype"], inputs[w["input"]]["shape"])
            for w in manifest["state"]] == STATE[name]
    assert all(w["initial"] == "zeros" and w["batch_axis"] == 0 for w in manifest["state"])
    graph = onnx.load(str(out / "model.onnx")).graph
    for value in graph.input:
        dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
        assert dims == inputs[value.name]["shape"], (value.name, dims)

    # a batch the export never traced (5 rows), fed 12 tokens from the zero state, gives
    # the logits of PyTorch's full forward
    session = onnxruntime.InferenceSession(str(out / "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    model = load_run(registry, run).model.eval()
    tokens = torch.randint(0, load_run(registry, run).vocab_size, (5, 12))
    with torch.no_grad():
        expected, _ = model(tokens)
    dtypes = {"int64": np.int64, "float32": np.float32}
    feed = {w["input"]: np.zeros([5 if d == "batch" else d for d in inputs[w["input"]]["shape"]],
                                 dtypes[inputs[w["input"]]["dtype"]]) for w in manifest["state"]}
    for t in range(12):
        feed["input_ids"] = tokens[:, t : t + 1].numpy()
        logits, *state = session.run(None, feed)
        feed = {w["input"]: value for w, value in zip(manifest["state"], state, strict=True)}
        assert np.abs(logits - expected[:, t].numpy()).max() < 1e-4, t
