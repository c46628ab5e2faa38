"""Sampling from an export directory with onnxruntime and numpy alone: no torch.

The loop is the one the manifest describes: start from the initial state,
feed the prompt one token at a time, then feed each chosen token back with
the state outputs wired to the state inputs. The loop that chooses tokens is
:func:`zoo.sampling_loop.continue_sequences`, shared with the PyTorch sampler, so
the same settings and seed choose alike on both paths.

The tokenizer is rebuilt through the registry; if its plugin is gone, the
error names the package the manifest recorded for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.loading import damaged, load_tokenizer_files, reading, short_reason
from zoo.sampling_loop import SamplingSettings, continue_sequences, prompt_ids, stopping_for
from zoo_exports.manifest import (
    MANIFEST_FILE,
    MODEL_FILE,
    RE_EXPORT,
    inside_export,
    read_manifest,
    recorded_provider,
)

NUMPY_DTYPES = {"float32": np.float32, "float16": np.float16, "int64": np.int64}
#: The manifest's dtype -> onnxruntime's name for a tensor of it.
ORT_TYPES = {"float32": "tensor(float)", "float16": "tensor(float16)", "int64": "tensor(int64)"}


class OnnxStep:
    """One onnxruntime session of the step graph, with its state wiring."""

    def __init__(self, export_dir: Path, threads: int | None = None) -> None:
        import onnxruntime

        self.directory = Path(export_dir)
        self.manifest = read_manifest(self.directory)
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        model_path = inside_export(self.directory, self.manifest["model_file"], "the model file")
        with reading(model_path, "the ONNX model", RE_EXPORT):
            self.session = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"])
        self.inputs = {entry["name"]: entry for entry in self.manifest["inputs"]}
        self.wiring = self.manifest["state"]
        self.output_names = ["logits", *[w["output"] for w in self.wiring]]
        self._check_against_model()

    def _check_against_model(self) -> None:
        """Refuse a manifest whose tensors differ from the model's: names, dtypes, sizes."""
        path = self.directory / MANIFEST_FILE
        graph = {i.name: i for i in self.session.get_inputs()}
        outputs = {o.name for o in self.session.get_outputs()}
        for name, entry in self.inputs.items():
            actual = graph.get(name)
            if actual is None or actual.type != ORT_TYPES.get(entry["dtype"]):
                raise damaged(path, "the export manifest", RE_EXPORT,
                              f"input {name!r} does not match {MODEL_FILE}")
            sizes = list(actual.shape)
            fixed = [(a, b) for a, b in zip(entry["shape"], sizes, strict=False)
                     if isinstance(a, int) and isinstance(b, int)]
            if len(sizes) != len(entry["shape"]) or any(a != b for a, b in fixed):
                raise damaged(path, "the export manifest", RE_EXPORT,
                              f"input {name!r} has shape {entry['shape']}, the model {sizes}")
        unnamed = sorted(set(graph) - set(self.inputs)) + [
            name for name in self.output_names if name not in outputs]
        if unnamed or "input_ids" not in self.inputs:
            raise damaged(path, "the export manifest", RE_EXPORT,
                          f"its tensors do not match {MODEL_FILE}'s ({unnamed or ['input_ids']})")
        unwired = sorted(set(self.inputs) - {"input_ids"} - {w["input"] for w in self.wiring})
        if unwired:  # a state input no output feeds: the step could never be run
            raise damaged(path, "the export manifest", RE_EXPORT,
                          f"its state wires no output to {', '.join(unwired)}")

    def initial_state(self, batch_size: int) -> dict[str, np.ndarray]:
        state = {}
        for wire in self.wiring:
            entry = self.inputs[wire["input"]]
            shape = [batch_size if size == "batch" else size for size in entry["shape"]]
            dtype = NUMPY_DTYPES[entry["dtype"]]
            if wire["initial"] == "zeros":
                state[wire["input"]] = np.zeros(shape, dtype=dtype)
            else:  # a learned initial state, stored for batch 1
                initial = inside_export(self.directory, wire["initial"],
                                        f"the initial state {wire['input']!r}")
                with reading(initial, "the initial state", RE_EXPORT):
                    one = np.load(initial, allow_pickle=False).astype(dtype)
                    batched = np.repeat(one, batch_size, axis=wire["batch_axis"])
                    if list(batched.shape) != shape:
                        raise ValueError(f"shape {list(one.shape)} for {entry['shape']}")
                state[wire["input"]] = batched
        return state

    def step(self, token_ids: np.ndarray, state: dict[str, np.ndarray]
             ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Feed one token per row: ids (B,) -> logits (B, V) and the next state."""
        feed = {"input_ids": np.asarray(token_ids, dtype=np.int64).reshape(-1, 1), **state}
        try:
            logits, *outputs = self.session.run(self.output_names, feed)
        except onnxruntime_errors() as error:
            # The manifest was checked against the graph's inputs, so a graph that still
            # fails is itself damaged (e.g. an index constant edited to point outside).
            raise damaged(self.directory / MODEL_FILE, "the ONNX model", RE_EXPORT,
                          f"it fails when run ({short_reason(error)})") from None
        if not np.isfinite(logits).all():  # weights damaged in a way the checksum was fixed for
            raise damaged(self.directory / MODEL_FILE, "the ONNX model", RE_EXPORT,
                          "it computes NaN or infinite logits")
        return logits, {w["input"]: value for w, value in zip(self.wiring, outputs, strict=True)}


def onnxruntime_errors() -> tuple[type[BaseException], ...]:
    """The exception classes onnxruntime raises from a session (none derive from RuntimeError)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

    return tuple(value for value in vars(ort_state).values()
                 if isinstance(value, type) and issubclass(value, Exception))


def load_export_tokenizer(registry: Any, export_dir: Path, manifest: dict[str, Any]) -> Any:
    """The export's tokenizer, rebuilt through the registry from its saved files."""
    from zoo.component_factory import build_tokenizer
    from zoo.config import choose_component

    spec = manifest["tokenizer"]
    recorded = recorded_provider(manifest, "tokenizer")
    choice = choose_component(registry, "tokenizer", spec["name"], spec["config"],
                              section="tokenizer", recorded=recorded, made="this export")
    tokenizer = build_tokenizer(registry, choice)
    load_tokenizer_files(tokenizer, inside_export(Path(export_dir), spec["directory"],
                                                  "the tokenizer"),
                         "the tokenizer of the export", RE_EXPORT, manifest["vocab_size"])
    return tokenizer


def generate(
    registry: Any,
    export_dir: Path,
    *,
    prompt: str = "",
    max_new_tokens: int = 500,
    settings: SamplingSettings | None = None,
    num_samples: int = 1,
    seed: int | None = None,
    on_text: Callable[[str], None] | None = None,
    stop: Sequence[str] = (),
    ignore_end_of_text: bool = False,
) -> list[str]:
    """Sample ``num_samples`` continuations of ``prompt`` as one batch with onnxruntime,
    ending samples as :func:`zoo.torch_sampler.generate` does."""
    settings = settings or SamplingSettings()
    stepper = OnnxStep(export_dir)
    tokenizer = load_export_tokenizer(registry, export_dir, stepper.manifest)
    context = prompt_ids(tokenizer, prompt, stepper.manifest["sampling"]["start_text"])
    rng = np.random.default_rng(seed)
    state = stepper.initial_state(num_samples)
    for token in context:
        logits, state = stepper.step(np.full(num_samples, token), state)

    def step(next_ids: np.ndarray) -> np.ndarray:
        nonlocal state
        step_logits, state = stepper.step(next_ids, state)
        return step_logits  # (B, V)

    return continue_sequences(logits, step, decode=tokenizer.decode,
                              max_new_tokens=max_new_tokens, settings=settings, rng=rng,
                              on_text=on_text,
                              stopping=stopping_for(tokenizer, stop, ignore_end_of_text))
