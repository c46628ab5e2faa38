"""Export a trained run's one-token step to ONNX, check it, and write the export directory.

Choices, each tested:
- The TorchScript exporter (``dynamo=False``): with torch 2.13 the dynamo
  exporter fixed the batch at 1 when the example batch was 1, and its GRU step
  ran slower in onnxruntime. The example batch is 2 and every state tensor is
  a distinct random tensor (an LSTM traced with one tensor passed as both h
  and c exports a wrong graph).
- PyTorch's GRU exports as ONNX GRU with ``linear_before_reset=1``, the
  semantics PyTorch uses; the parity rollout would catch anything else.
- Constant folding is on, so the weights the RNN ops read (gates reordered
  from PyTorch's layout to ONNX's) are stored ready to use, and onnxruntime's
  quantizer can find them. Folding copies a tied output layer's weight as the
  transpose of the embedding; :func:`store_tied_weights_once` replaces that
  copy with a Transpose node (which onnxruntime folds in memory when the
  session loads), and identical initializers are merged: tied weights are
  stored once.

The manifest records the providers (plugin, distribution, version) of the
architecture, the tokenizer and this exporter, taken from the registry the
run was loaded through, so a client missing one can be told what to install.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zoo.plugin import (
    ZooError,
    __version__,
    atomic_directory,
    end_of_text_id,
    naming_write_failures,
)
from zoo_exports.manifest import (
    FORMAT_VERSION,
    LOGITS_ROLE,
    MANIFEST_FILE,
    MODEL_FILE,
    PROVIDERS_KEY,
    STATE_ROLE,
    TOKEN_ROLE,
    TOKENIZER_DIR,
    check_written,
)
from zoo_exports.step import OneStep, StateTensor, describe_state, example_state

EXPORTER_NAME = "onnx"  # the name zoo_exports.plugin registers this exporter under
DTYPES = {torch.float32: "float32", torch.int64: "int64", torch.float16: "float16"}
#: Weight-bearing ops that onnxruntime's dynamic quantization leaves in float
#: (its integer-op registry has MatMul, Gather, LSTM, Attention, but no GRU, RNN or Gemm).
FLOAT_ONLY_OPS = {"GRU", "RNN", "Gemm"}


def merge_identical_initializers(model: Any) -> int:
    """Point every use of a duplicated initializer at one copy; return how many were dropped."""
    from onnx import numpy_helper

    graph = model.graph
    first_by_content: dict[tuple[str, tuple[int, ...], bytes], str] = {}
    renamed: dict[str, str] = {}
    for initializer in list(graph.initializer):
        array = numpy_helper.to_array(initializer)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key in first_by_content:
            renamed[initializer.name] = first_by_content[key]
            graph.initializer.remove(initializer)
        else:
            first_by_content[key] = initializer.name
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name in renamed:
                node.input[index] = renamed[name]
    return len(renamed)


def store_tied_weights_once(model: Any) -> int:
    """Replace each initializer that is the transpose of another by a Transpose node.

    Returns how many copies were dropped. A tied output layer's weight is the
    embedding matrix transposed; constant folding stores it a second time.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    matrices = {t.name: numpy_helper.to_array(t) for t in graph.initializer if len(t.dims) == 2}
    owner = {(a.dtype.str, a.shape, a.tobytes()): name for name, a in matrices.items()}
    dropped: set[str] = set()
    for initializer in list(graph.initializer):
        array = matrices.get(initializer.name)
        if array is None:
            continue
        transposed = np.ascontiguousarray(array.T)
        source = owner.get((transposed.dtype.str, transposed.shape, transposed.tobytes()))
        if source is None or source == initializer.name or source in dropped:
            continue
        graph.initializer.remove(initializer)
        dropped.add(initializer.name)
        graph.node.insert(0, helper.make_node("Transpose", [source], [initializer.name],
                                              name=f"tied_{initializer.name}", perm=[1, 0]))
    return len(dropped)


def _session(path: Path) -> Any:
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _initial_feed(states: list[StateTensor], batch_size: int, model: Any) -> dict[str, np.ndarray]:
    return {s.name: t.numpy() for s, t in zip(states, model.init_state(batch_size), strict=True)}


@torch.no_grad()
def rollout_difference(model: Any, session: Any, states: list[StateTensor], vocab_size: int,
                       batch_size: int, steps: int, seed: int = 0) -> float:
    """Max |logits difference| between PyTorch and onnxruntime over ``steps`` fed tokens."""
    step = OneStep(model).eval()
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, vocab_size, (batch_size, steps), generator=generator)
    torch_state = model.init_state(batch_size)
    feed = _initial_feed(states, batch_size, model)
    worst = 0.0
    for t in range(steps):
        ids = tokens[:, t : t + 1]
        expected, *torch_state = step(ids, *torch_state)
        feed["input_ids"] = ids.numpy()
        logits, *new_state = session.run(None, feed)
        feed = {s.name: value for s, value in zip(states, new_state, strict=True)}
        worst = max(worst, float(np.abs(logits - expected.numpy()).max()))
    return worst


def _tensor_entry(name: str, role: str, dtype: str, shape: list[Any]) -> dict[str, Any]:
    return {"name": name, "role": role, "dtype": dtype, "shape": shape}


def _symbolic(shape: tuple[int, ...], batch_axis: int | None) -> list[Any]:
    return ["batch" if axis == batch_axis else size for axis, size in enumerate(shape)]


def component_providers(loaded: Any) -> dict[str, dict[str, str]]:
    """Kind -> provider record of the export's architecture, tokenizer and exporter.

    Taken from the registry the run was loaded through; empty without one.
    """
    registry = getattr(loaded, "registry", None)
    if registry is None:
        return {}
    names = {"architecture": loaded.config.model.name,
             "tokenizer": loaded.config.tokenizer.name, "exporter": EXPORTER_NAME}
    providers = {kind: registry.provider_of(kind, name) for kind, name in names.items()}
    return {kind: p.record() for kind, p in providers.items() if p is not None}


#: The default of ``zoo sample --max-new-tokens``, recorded as the manifest's default.
MAX_NEW_TOKENS = 500
#: The manifest's ``sampling.how``: the loop every client runs, in words.
SAMPLING_HOW = (
    "Set every state input to its state entry's initial value (zeros, or the .npy value at "
    "batch 1 repeated along batch_axis). Feed end_of_text first when it is not null (when it "
    "is null and the prompt is empty, feed start_text encoded instead), then the prompt's "
    "tokens (tokenizer.portable: no begin token), one token per step: the token input gets "
    "the id (int64, [batch, 1]), each state input the value its state output gave on the "
    "step before. After the last prompt token, choose the next id from the logits output "
    "(temperature 0: the argmax; else the softmax of logits / temperature, after top_k and "
    "top_p), feed it the same way, and repeat. A sample ends when it draws end_of_text, "
    "which is not part of its text, or after max_new_tokens; decode its ids with "
    "tokenizer.portable. zoo refuses a prompt its tokenizer cannot give back; a client may "
    "map unseen text to the unknown id instead."
)


def portable_tokenizer(tokenizer: Any) -> dict[str, Any] | None:
    """The tokenizer's ``portable()`` description, or None for one without that method."""
    describe = getattr(tokenizer, "portable", None)
    return dict(describe()) if callable(describe) else None


def build_manifest(loaded: Any, states: list[StateTensor], opset: int, model_sha256: str,
                   parity: dict[str, Any], quantized: str | None) -> dict[str, Any]:
    """Everything an onnxruntime client in any language needs to drive the step (format 2).

    The manifest is checked against ``manifest.schema.json`` before it is
    returned; one that fails it is a bug, and the export stops, leaving nothing.
    """
    import dataclasses

    from zoo.plugin import SamplingSettings

    vocab = loaded.vocab_size
    tokenizer = loaded.tokenizer
    defaults = SamplingSettings()
    shapes = {s.name: _symbolic(s.shape, s.batch_axis) for s in states}
    manifest = {
        "format_version": FORMAT_VERSION,
        "exporter": EXPORTER_NAME,
        "zoo_version": __version__,
        PROVIDERS_KEY: component_providers(loaded),
        "architecture": loaded.config.model.name,
        "model_config": dataclasses.asdict(loaded.config.model.config),
        "trained_steps": loaded.step,
        "model_file": MODEL_FILE,
        "model_sha256": model_sha256,
        "opset": opset,
        "quantized": quantized,
        "vocab_size": vocab,
        "special_tokens": dict(getattr(tokenizer, "special_tokens", {}) or {}),
        "tokenizer": {
            "name": loaded.config.tokenizer.name,
            "config": dataclasses.asdict(loaded.config.tokenizer.config),
            "directory": TOKENIZER_DIR,
            "portable": portable_tokenizer(tokenizer),
        },
        "inputs": [_tensor_entry("input_ids", TOKEN_ROLE, "int64", ["batch", 1])] + [
            _tensor_entry(s.name, STATE_ROLE, DTYPES[s.dtype], shapes[s.name]) for s in states
        ],
        "outputs": [_tensor_entry("logits", LOGITS_ROLE, "float32", ["batch", vocab])] + [
            _tensor_entry(f"{s.name}_out", STATE_ROLE, DTYPES[s.dtype], shapes[s.name])
            for s in states
        ],
        "state": [
            {"input": s.name, "output": f"{s.name}_out", "dtype": DTYPES[s.dtype],
             "shape": shapes[s.name], "batch_axis": s.batch_axis,
             "initial": "zeros" if s.zeros else f"initial_state/{s.name}.npy"}
            for s in states
        ],
        # the contract's state has fixed shapes, so the step may be run without end
        "max_steps": None,
        "dataset": {
            "name": loaded.config.dataset.name,
            "config": dataclasses.asdict(loaded.config.dataset.config),
        },
        "sampling": {
            "start_text": "\n",
            "end_of_text": end_of_text_id(tokenizer),
            "temperature": defaults.temperature,
            "top_k": defaults.top_k,
            "top_p": defaults.top_p,
            "max_new_tokens": MAX_NEW_TOKENS,
            "how": SAMPLING_HOW,
        },
        "parity": parity,
    }
    check_written(manifest)
    return manifest


@contextlib.contextmanager
def native_output_silenced() -> Iterator[None]:
    """Keep what torch's C++ exporter writes to file descriptors 1 and 2 off the terminal.

    On a failure (an opset without some operator) it prints its whole IR graph
    to stdout, well over a hundred lines before zoo's one-line error.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    try:
        with tempfile.TemporaryFile() as sink:
            for fd in saved:
                os.dup2(sink.fileno(), fd)
            try:
                yield
            finally:
                for fd, copy in saved.items():
                    os.dup2(copy, fd)
    finally:
        for copy in saved.values():
            os.close(copy)


def export_onnx(
    loaded: Any,
    out_dir: Path,
    *,
    opset: int = 17,
    quantize: str | None = None,
    parity_steps: int = 256,
    tolerance: float = 1e-4,
    log: Callable[[str], None] = print,
    finish: Callable[[Path, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Write ``out_dir`` (model.onnx, tokenizer/, manifest.json) or leave nothing at all.

    ``finish(directory, manifest)``, when given, adds its own files to the export
    (the web exporter's page) and may extend the manifest before it is written;
    it runs inside the atomic write, so a failure there leaves nothing either.
    """
    import onnx

    model = loaded.model.cpu().eval()
    states = describe_state(model)
    vocab = loaded.vocab_size
    example_ids = torch.randint(0, vocab, (2, 1))
    input_names = ["input_ids", *[s.name for s in states]]
    output_names = ["logits", *[f"{s.name}_out" for s in states]]
    dynamic_axes: dict[str, dict[int, str]] = {"input_ids": {0: "batch"}, "logits": {0: "batch"}}
    for s in states:
        if s.batch_axis is not None:
            dynamic_axes[s.name] = {s.batch_axis: "batch"}
            dynamic_axes[f"{s.name}_out"] = {s.batch_axis: "batch"}

    with atomic_directory(Path(out_dir)) as temp:
        path = temp / MODEL_FILE
        try:
            with (warnings.catch_warnings(), native_output_silenced(),
                  naming_write_failures(path)):
                # the TorchScript exporter's notes on RNN batch sizes and its own deprecation;
                # what matters is checked below, by the parity rollout
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    OneStep(model).eval(), (example_ids, *example_state(model, 2)), str(path),
                    dynamo=False, opset_version=opset, input_names=input_names,
                    output_names=output_names, dynamic_axes=dynamic_axes,
                    do_constant_folding=True,
                )
        except OSError:
            raise  # a full disk while torch wrote model.onnx: the environment's, not torch's
        except Exception as error:
            raise ZooError(
                f"torch could not export {loaded.config.model.name!r} to ONNX opset {opset}: "
                f"{type(error).__name__}: {str(error).splitlines()[0]}"
            ) from None
        proto = onnx.load(str(path))
        merged = merge_identical_initializers(proto) + store_tied_weights_once(proto)
        onnx.checker.check_model(proto, full_check=True)
        with naming_write_failures(path):
            onnx.save_model(proto, str(path),
                            save_as_external_data=proto.ByteSize() > 1_800_000_000)
        float_bytes = path.stat().st_size

        session = _session(path)
        parity: dict[str, Any] = {"steps": parity_steps, "tolerance": tolerance}
        differences = {batch: rollout_difference(model, session, states, vocab, batch,
                                                 parity_steps) for batch in (1, 3)}
        # all checks first, then the report: a failed export prints its one error line only
        for batch, difference in differences.items():
            if not difference <= tolerance:
                raise ZooError(
                    f"the ONNX step differs from PyTorch by {difference:.2e} at batch {batch} "
                    f"(tolerance {tolerance:.0e}); nothing was written"
                )
        for batch, difference in differences.items():
            parity[f"max_abs_diff_batch{batch}"] = difference
            log(f"parity, {parity_steps} steps at batch {batch}: max |logits difference| "
                f"{difference:.2e}")

        if quantize == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantized_path = temp / "model.int8.onnx"
            # the quantizer logs advice ("consider pre-processing") to the root logger,
            # which would reach the user as a bare WARNING:root: line; what matters is
            # reported below, measured
            logging.disable(logging.WARNING)
            try:
                with naming_write_failures(path):  # it replaces model.onnx below
                    quantize_dynamic(str(path), str(quantized_path), weight_type=QuantType.QInt8)
            finally:
                logging.disable(logging.NOTSET)
            quantized_path.replace(path)
            session = _session(path)
            for batch in (1, 3):
                parity[f"int8_max_abs_diff_batch{batch}"] = rollout_difference(
                    model, session, states, vocab, batch, parity_steps)
            left_float = sorted({n.op_type for n in proto.graph.node} & FLOAT_ONLY_OPS)
            parity["int8_left_in_float"] = left_float
            log(f"int8: {float_bytes / 1e6:.2f} MB -> {path.stat().st_size / 1e6:.2f} MB; "
                f"max |logits difference| {parity['int8_max_abs_diff_batch1']:.3f} (not checked)"
                + (f"; left in float32: {', '.join(left_float)} (onnxruntime has no dynamic "
                   "int8 kernel for it)" if left_float else ""))
        parity["float_model_bytes"] = float_bytes
        parity["merged_initializers"] = merged

        for s in states:
            if not s.zeros:
                (temp / "initial_state").mkdir(exist_ok=True)
                initial = model.init_state(1)[[x.name for x in states].index(s.name)]
                np.save(temp / "initial_state" / f"{s.name}.npy", initial.numpy())
        (temp / TOKENIZER_DIR).mkdir()
        loaded.tokenizer.save(temp / TOKENIZER_DIR)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest = build_manifest(loaded, states, opset, digest, parity, quantize)
        if finish is not None:
            finish(temp, manifest)
            check_written(manifest)  # what finish added is held to the schema too
        (temp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
