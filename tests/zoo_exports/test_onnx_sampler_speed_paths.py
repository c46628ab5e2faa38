"""The onnxruntime sampler's fast paths choose and step exactly as the plain ones do.

The plain paths are the reference: the step run with ``session.run`` and
numpy feeds, and the token chosen by :func:`zoo.sampling.loop.token_chooser`.
The fast ones: IOBinding (:class:`BoundStep`), the choosing head
(:func:`choosing_graph`), many steps a call inside an ONNX Loop
(:class:`ChoosingLoop`), and exports kept open (:func:`open_export`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from zoo.errors import ZooError
from zoo.sampling.loop import SamplingSettings, continue_sequences, prompt_ids, token_chooser
from zoo_exports import onnx_sampler
from zoo_exports.choosing_graph import (
    CHOSEN,
    DRAW,
    TEMPERATURE,
    TOP_K,
    TOP_P,
    Choosing,
    choosing_graph,
)
from zoo_exports.onnx_sampler import OnnxStep, generate, open_export

SETTINGS = [SamplingSettings(0), SamplingSettings(0.8), SamplingSettings(1.3, top_k=5),
            SamplingSettings(1.0, top_p=0.9), SamplingSettings(0.7, top_k=20, top_p=0.8)]


def head_session(vocab: int, choosing: Choosing, opset: int) -> onnxruntime.InferenceSession:
    """A graph whose logits are its input, with the choosing head on them."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["logits"])], "logits",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", vocab])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", vocab])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    headed = choosing_graph(model, "logits", choosing, vocab)
    assert headed is not None
    onnx.checker.check_model(headed, full_check=True)
    return onnxruntime.InferenceSession(headed.SerializeToString(),
                                        providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("opset", [13, 17, 18])
@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_the_head_chooses_what_numpy_chooses(settings, opset):
    """Ties, -inf, wide and narrow logits, batches: the same id for the same draw."""
    rng = np.random.default_rng(opset)
    sessions: dict[int, onnxruntime.InferenceSession] = {}
    for case in range(300):
        batch, vocab = int(rng.choice([1, 3, 16])), int(rng.choice([5, 67, 300]))
        logits = (rng.normal(size=(batch, vocab)) * rng.choice([0.3, 3, 30])).astype(np.float32)
        if case % 3 == 0:
            logits = np.round(logits)  # many exact ties
        if case % 7 == 0:
            logits[:, rng.integers(vocab)] = -np.inf
        choosing = Choosing.of(settings, vocab)
        session = sessions.setdefault(vocab, head_session(vocab, choosing, opset))
        draws = np.random.default_rng(case).random((batch, 1))
        feed = {"x": logits}
        if not choosing.greedy:
            feed |= {DRAW: draws, TEMPERATURE: np.array(float(settings.temperature))}
        if choosing.top_k:
            feed[TOP_K] = np.array([settings.top_k], dtype=np.int64)
        if choosing.top_p:
            feed[TOP_P] = np.array(float(settings.top_p))
        chosen = session.run([CHOSEN], feed)[0][:, 0]
        expected = token_chooser(settings, batch, vocab)(logits, np.random.default_rng(case))
        assert chosen.tolist() == expected.tolist(), (case, logits, draws)


def test_an_opset_before_13_gets_no_head():
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["logits"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                                             [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    assert choosing_graph(model, "logits", Choosing(False, False, False), 4) is None


def test_the_bound_step_computes_what_session_run_computes(export_small, architecture_name):
    _, out, _ = export_small(architecture_name)
    stepper = OnnxStep(out)
    vocab = stepper.manifest["vocab_size"]
    for batch in (1, 3):
        bound, state = stepper.bind(batch), stepper.initial_state(batch)
        tokens = np.random.default_rng(batch).integers(0, vocab, (40, batch))
        for ids in tokens:
            expected, state = stepper.step(ids, state)
            np.testing.assert_array_equal(bound(ids), expected)
        for key, value in bound.state().items():
            np.testing.assert_array_equal(value, state[key])


def test_the_choosing_loop_chooses_what_the_bare_step_and_numpy_choose(export_small,
                                                                      architecture_name):
    """Every architecture, batch 1 and 3, greedy and sampled: the same ids, token by token,
    across calls of every size the loop makes."""
    _, out, _ = export_small(architecture_name)
    for batch in (1, 3):
        bare = OnnxStep(out, batch_size=batch)
        vocab = bare.manifest["vocab_size"]
        for settings in (SamplingSettings(0), SamplingSettings(1.0, top_k=10, top_p=0.95)):
            looping = OnnxStep(out, batch_size=batch, choose_for=settings)
            assert looping.choosing == Choosing.of(settings, vocab)
            loop = looping.choose(settings, np.random.default_rng(5), 150)
            step, choose = bare.bind(batch), token_chooser(settings, batch, vocab)
            rng = np.random.default_rng(5)
            ids = np.full(batch, 1)
            loop.feed(ids)
            step(ids)
            got, expected = [loop.advance(ids)], [choose(step(ids), rng).tolist()]
            for _ in range(149):
                got.append(loop.advance(got[-1]))
                expected.append(choose(step(np.array(expected[-1])), rng).tolist())
            assert got == expected, (architecture_name, batch, settings)


@pytest.mark.parametrize("name", ["gru-tied", "transformer", "mlp"])
def test_generate_samples_what_the_plain_loop_samples(registry, export_small, name):
    """zoo sample --onnx: the choosing loop against the bare step with numpy's choice."""
    _, out, _ = export_small(name)
    stepper, tokenizer = open_export(registry, out)
    for settings in SETTINGS:
        for batch in (1, 2):
            options = {"prompt": "RO", "max_new_tokens": 70, "settings": settings,
                       "num_samples": batch, "seed": 11, "ignore_end_of_text": True}
            pieces: list[str] = []
            texts = generate(registry, out, **options,
                             on_text=pieces.append if batch == 1 else None)
            bare = OnnxStep(out, batch_size=batch).bind(batch)
            context = prompt_ids(tokenizer, "RO")
            for token in context[:-1]:
                bare(np.full(batch, token))
            expected = continue_sequences(
                bare(np.full(batch, context[-1])), bare, decode=tokenizer.decode,
                max_new_tokens=70, settings=settings, rng=np.random.default_rng(11))
            assert texts == expected
            if batch == 1:
                assert "".join(pieces) == texts[0]


def test_a_graph_that_cannot_loop_is_sampled_in_numpy(registry, export_small, monkeypatch):
    _, out, _ = export_small("gru-tied")
    settings = SamplingSettings(0.9, top_k=12)
    options = {"max_new_tokens": 60, "settings": settings, "seed": 2, "num_samples": 2}
    looped = generate(registry, out, **options)
    monkeypatch.setattr(onnx_sampler, "looping_graph", lambda *args: None)
    onnx_sampler._OPENED.clear()
    stepper, _ = open_export(registry, out, 2, settings)
    assert stepper.choosing is None
    assert generate(registry, out, **options) == looped
    onnx_sampler._OPENED.clear()


def test_a_session_runs_only_its_own_batch_and_kind(export_small):
    _, out, _ = export_small("lstm")
    with pytest.raises(ValueError, match="runs batch 2, not 3"):
        OnnxStep(out, batch_size=2).bind(3)
    looping = OnnxStep(out, batch_size=1, choose_for=SamplingSettings(0))
    with pytest.raises(ValueError, match="choosing loop"):
        looping.bind(1)
    with pytest.raises(ValueError, match="chooses as"):
        looping.choose(SamplingSettings(0.8), np.random.default_rng(0), 10)


def test_an_open_export_is_reused_until_a_file_changes(registry, export_small, tmp_path):
    _, out, _ = export_small("rnn")
    copy = tmp_path / "export"
    shutil.copytree(out, copy)
    first, tokenizer = open_export(registry, copy, 1, SamplingSettings())
    assert open_export(registry, copy, 1, SamplingSettings())[0] is first
    assert open_export(registry, copy, 2, SamplingSettings())[0] is not first
    manifest = copy / "manifest.json"
    manifest.write_text(manifest.read_text() + "\n")  # the same content, written anew
    again = open_export(registry, copy, 1, SamplingSettings())[0]
    assert again is not first
    with open(copy / "model.onnx", "ab") as handle:  # damaged after it was opened
        handle.write(b"\0")
    with pytest.raises(ZooError, match="does not match the sha256"):
        open_export(registry, copy, 1, SamplingSettings())


def nan_export(out: Path, tmp_path: Path) -> Path:
    """A copy of the export whose float weights are all NaN, its sha256 fixed up."""
    copy = tmp_path / "nan"
    shutil.copytree(out, copy)
    model = onnx.load(str(copy / "model.onnx"))
    for weight in model.graph.initializer:
        if weight.data_type == TensorProto.FLOAT:
            weight.CopyFrom(numpy_helper.from_array(
                np.full(numpy_helper.to_array(weight).shape, np.nan, np.float32), weight.name))
    onnx.save(model, str(copy / "model.onnx"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["model_sha256"] = hashlib.sha256((copy / "model.onnx").read_bytes()).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


@pytest.mark.parametrize("loops", [True, False])
def test_nan_logits_are_a_damaged_model_on_every_path(registry, export_small, tmp_path,
                                                      monkeypatch, loops):
    _, out, _ = export_small("gru")
    damaged = nan_export(out, tmp_path)
    if not loops:
        monkeypatch.setattr(onnx_sampler, "looping_graph", lambda *args: None)
    pieces: list[str] = []
    with pytest.raises(ZooError, match="computes NaN or infinite logits"):
        generate(registry, damaged, max_new_tokens=20, on_text=pieces.append)
    assert "".join(pieces) == ""  # nothing was streamed from the damaged model
    onnx_sampler._OPENED.clear()


@pytest.mark.parametrize("loops", [True, False])
def test_a_graph_that_fails_when_run_is_a_damaged_model_on_every_path(
        registry, export_small, tmp_path, monkeypatch, loops):
    _, out, _ = export_small("rnn")
    copy = tmp_path / "fails"
    shutil.copytree(out, copy)
    model = onnx.load(str(copy / "model.onnx"))
    indices = {node.input[1] for node in model.graph.node if node.op_type == "Gather"}
    constant = next(node for node in model.graph.node
                    if node.op_type == "Constant" and node.output[0] in indices)
    value = numpy_helper.to_array(constant.attribute[0].t)
    constant.attribute[0].t.CopyFrom(numpy_helper.from_array(value * 0 + 10_000))
    onnx.save(model, str(copy / "model.onnx"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["model_sha256"] = hashlib.sha256((copy / "model.onnx").read_bytes()).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    if not loops:
        monkeypatch.setattr(onnx_sampler, "looping_graph", lambda *args: None)
    with pytest.raises(ZooError, match="is damaged .it fails when run"):
        generate(registry, copy, max_new_tokens=5)
    onnx_sampler._OPENED.clear()
