"""Sampling from an export directory with onnxruntime and numpy alone: no torch; and, on the
same sessions, scoring text (:func:`score`) and a conversation's stepper (:func:`feed`).

The loop is the one the manifest describes: start from the initial state,
feed the prompt one token at a time, then feed each chosen token back with
the state outputs wired to the state inputs. The loop that ends samples and
streams their text is :func:`zoo.sampling.loop.continue_choices`, shared with
the PyTorch sampler.

What makes it fast (``tests/benchmarks/bench_onnx.py`` measures each part in
its ablation table):

- The tokens are chosen inside the graph, and many steps run in one
  onnxruntime call. At load, the sampler wraps the step graph (in memory;
  ``model.onnx`` stays as exported) in an ONNX ``Loop`` whose body is the
  step followed by a head that computes, in float64, the formula
  :func:`zoo.sampling.loop.token_chooser` computes in numpy, and feeds each
  chosen token to the next step. Python then spends nothing per token but
  handing it on. The uniform draws are the ones the numpy chooser would take
  from the same seed, in the same order, so both choose the same tokens from
  the same logits (see :func:`zoo_exports.choosing_graph.choosing_graph` for
  the one exception, a draw within about 1e-16 of a boundary between two
  tokens).
- The tensors are bound once (IOBinding): token ids, logits, the chosen
  ids and two sets of state buffers that onnxruntime reads and writes in
  place.
- The session fixes the batch size, so shapes that depend on it are worked
  out once, when the graph is optimized. The kernels onnxruntime then picks
  may round differently in float32 (the transformer's logits move by about
  1e-6, within the export's parity tolerance), as they already differed
  from PyTorch's.
- An export opened once stays open (:func:`open_export`) while its files are
  unchanged.

The tokenizer is rebuilt through the registry; if its plugin is gone, the
error names the package the manifest recorded for it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.plugin import (
    SamplingSettings,
    Scores,
    ZooError,
    continue_choices,
    continue_sequences,
    cpu_threads,
    damaged,
    length_groups,
    load_tokenizer_files,
    prompt_ids,
    reading,
    score_documents,
    short_reason,
    stopping_for,
    surprisal,
)
from zoo_exports.choosing_graph import (
    CHOSEN,
    DRAWS,
    LAST_CHOSEN,
    STEPS,
    TEMPERATURE,
    TOP_K,
    TOP_P,
    Choosing,
    looping_graph,
)
from zoo_exports.manifest import (
    MANIFEST_FILE,
    MODEL_FILE,
    RE_EXPORT,
    inside_export,
    read_manifest,
    recorded_provider,
    token_and_logits,
)

NUMPY_DTYPES = {"float32": np.float32, "float16": np.float16, "int64": np.int64}
#: The manifest's dtype -> onnxruntime's name for a tensor of it.
ORT_TYPES = {"float32": "tensor(float)", "float16": "tensor(float16)", "int64": "tensor(int64)"}
#: Steps in the first call of a choosing loop after the prompt, and at most in one call:
#: each call takes twice as many as the one before, so a sample that ends early (at end
#: of text) wastes few steps, and a long one makes few calls.
FIRST_CALL_STEPS, MAX_CALL_STEPS = 4, 64
#: The most logits one call returns (steps x batch x vocabulary), so that a big vocabulary
#: at a big batch takes fewer steps a call instead of a big buffer.
MAX_CALL_LOGITS = 4_000_000
#: Documents stepped side by side when scoring (the rows of one batch), and the steps whose
#: logits are kept before they are reduced to surprisal and rank.
SCORING_ROWS, SCORING_STEPS = 16, 64


class OnnxStep:
    """One onnxruntime session of the step graph, with its state wiring.

    ``threads`` is onnxruntime's intra-op thread count (None: its default, one
    per core). ``batch_size`` fixes the graph's batch axis, so that onnxruntime
    works out every shape that depends on it once, when it optimizes the
    graph, rather than on every step (the transformer's graph is mostly such
    shape arithmetic); the session then runs that batch size only.

    With ``choose_for`` (and a ``batch_size``) the session runs the choosing
    loop of :func:`zoo_exports.choosing_graph.looping_graph` for those settings
    instead of the bare step, where the graph can take it; :attr:`choosing`
    says which head it has, None for the bare step. Drive it with :meth:`choose`.
    """

    def __init__(self, export_dir: Path, threads: int | None = None,
                 manifest: dict[str, Any] | None = None,
                 choose_for: SamplingSettings | None = None,
                 batch_size: int | None = None) -> None:
        import onnxruntime

        self.directory = Path(export_dir)
        self.manifest = read_manifest(self.directory) if manifest is None else manifest
        self.threads = threads
        self.batch_size = batch_size
        self.inputs = {entry["name"]: entry for entry in self.manifest["inputs"]}
        self.token_name, self.logits_name = token_and_logits(self.manifest)
        self.wiring = self.manifest["state"]
        self.output_names = [self.logits_name, *[w["output"] for w in self.wiring]]
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        if batch_size is not None:
            options.add_free_dimension_override_by_name("batch", batch_size)
        model_path = inside_export(self.directory, self.manifest["model_file"], "the model file")

        def session(model: Any) -> Any:
            return onnxruntime.InferenceSession(model, options,
                                                providers=["CPUExecutionProvider"])

        self.choosing: Choosing | None = None
        with reading(model_path, "the ONNX model", RE_EXPORT):
            if choose_for is not None and batch_size is not None:
                choosing = Choosing.of(choose_for, self.manifest["vocab_size"])
                looping = self._looping(model_path, choosing, batch_size)
                if looping is not None:
                    with contextlib.suppress(*onnxruntime_errors()):  # else the bare step
                        self.session = session(looping.SerializeToString())
                        self.choosing = choosing
            if self.choosing is None:
                self.session = session(str(model_path))
        self._check_against_model()

    def _looping(self, model_path: Path, choosing: Choosing, batch_size: int) -> Any | None:
        """The model as ``looping_graph`` makes it, or None where it cannot be."""
        import onnx

        if model_path.stat().st_size > 1_800_000_000:  # past what one protobuf may hold
            return None
        return looping_graph(onnx.load(str(model_path)), self.token_name, self.logits_name,
                             [(w["input"], w["output"]) for w in self.wiring], choosing,
                             self.manifest["vocab_size"], batch_size)

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
        added = {STEPS, DRAWS, TEMPERATURE, TOP_K, TOP_P} if self.choosing is not None else set()
        unnamed = sorted(set(graph) - set(self.inputs) - added) + [
            name for name in self.output_names if name not in outputs]
        if unnamed or self.token_name not in self.inputs:
            raise damaged(path, "the export manifest", RE_EXPORT,
                          f"its tensors do not match {MODEL_FILE}'s "
                          f"({unnamed or [self.token_name]})")
        unwired = sorted(set(self.inputs) - {self.token_name}
                         - {w["input"] for w in self.wiring})
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
        self._require(bare=True)
        feed = {self.token_name: np.asarray(token_ids, dtype=np.int64).reshape(-1, 1), **state}
        with self._running():
            logits, *outputs = self.session.run(self.output_names, feed)
        self._check_logits(logits)
        return logits, {w["input"]: value for w, value in zip(self.wiring, outputs, strict=True)}

    def bind(self, batch_size: int, state: dict[str, np.ndarray] | None = None) -> BoundStep:
        """The fast way to step one batch many times: see :class:`BoundStep`."""
        self._require(bare=True, batch_size=batch_size)
        return BoundStep(self, batch_size,
                         self.initial_state(batch_size) if state is None else state)

    def choose(self, settings: SamplingSettings, rng: np.random.Generator,
               wanted: int) -> ChoosingLoop:
        """The choosing loop of this session for ``settings``: see :class:`ChoosingLoop`."""
        self._require(bare=False, batch_size=self.batch_size)
        assert self.batch_size is not None
        if Choosing.of(settings, self.manifest["vocab_size"]) != self.choosing:
            raise ValueError(f"this session chooses as {self.choosing}, not as {settings}")
        return ChoosingLoop(self, self.initial_state(self.batch_size), settings, rng, wanted)

    def _require(self, bare: bool, batch_size: int | None = None) -> None:
        if bare != (self.choosing is None):
            raise ValueError("this session runs the " + (
                "choosing loop: use choose()" if bare else "bare step: use bind() or step()"))
        if self.batch_size not in (None, batch_size):
            raise ValueError(f"this session runs batch {self.batch_size}, not {batch_size}")

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        """Turn a failure inside onnxruntime into the damaged-model error."""
        try:
            yield
        except onnxruntime_errors() as error:
            raise self._failed(error) from None

    def _failed(self, error: BaseException) -> ZooError:
        # The manifest was checked against the graph's inputs, so a graph that still
        # fails is itself damaged (e.g. an index constant edited to point outside).
        return damaged(self.directory / MODEL_FILE, "the ONNX model", RE_EXPORT,
                       f"it fails when run ({short_reason(error)})")

    def _check_logits(self, logits: np.ndarray) -> None:
        # One sum is NaN or infinite exactly when some logit is (for any logits a model
        # can make; float32 overflows only past 1e38): cheaper than isfinite().all().
        if not math.isfinite(np.add.reduce(logits.reshape(-1))):
            # weights damaged in a way the checksum was fixed for
            raise damaged(self.directory / MODEL_FILE, "the ONNX model", RE_EXPORT,
                          "it computes NaN or infinite logits")


class _Bound:
    """Bindings of one session that take turns, each reading the state the other wrote.

    The state lives in two sets of numpy buffers that onnxruntime reads and
    writes in place (IOBinding): nothing is allocated or copied between calls.
    """

    def __init__(self, stepper: OnnxStep, state: dict[str, np.ndarray],
                 bound: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> None:
        import onnxruntime

        self._stepper = stepper
        self._names = [(w["input"], w["output"]) for w in stepper.wiring]
        self._buffers = ([np.array(state[name], order="C") for name, _ in self._names],
                         [np.empty_like(state[name], order="C") for name, _ in self._names])
        self._arrays = [bound]  # kept alive: onnxruntime reads and writes them
        value = onnxruntime.OrtValue.ortvalue_from_numpy
        self._bindings = []
        for reads, writes in (self._buffers, self._buffers[::-1]):
            binding = stepper.session.io_binding()
            for name, array in bound.items():
                binding.bind_ortvalue_input(name, value(array))
            for (name, output), source, target in zip(self._names, reads, writes, strict=True):
                binding.bind_ortvalue_input(name, value(source))
                binding.bind_ortvalue_output(output, value(target))
            self._bindings.append(binding)
        self._bind_outputs(outputs)
        self._current = 0  # the binding whose inputs hold the state now
        self._runs = [_bound_run(stepper.session, binding) for binding in self._bindings]
        # a run with IOBinding fails with RuntimeError, session.run with onnxruntime's own
        self._errors: tuple[type[BaseException], ...] = (RuntimeError, *onnxruntime_errors())

    def _bind_outputs(self, outputs: dict[str, np.ndarray]) -> None:
        """Bind ``outputs`` (name -> buffer) in both bindings, in place of any bound before."""
        import onnxruntime

        self._arrays.append(outputs)
        for binding in self._bindings:
            for name, array in outputs.items():
                binding.bind_ortvalue_output(name, onnxruntime.OrtValue.ortvalue_from_numpy(array))

    def _run(self) -> None:
        try:
            self._runs[self._current]()
        except self._errors as error:
            raise self._stepper._failed(error) from None
        self._current ^= 1

    def state(self) -> dict[str, np.ndarray]:
        """A copy of the state the next call reads."""
        return {name: buffer.copy() for (name, _), buffer in
                zip(self._names, self._buffers[self._current], strict=True)}


class BoundStep(_Bound):
    """The bare step with one batch's tensors bound once, for stepping it many times.

    Each call feeds one token per row and returns the logits (B, V), a buffer
    the next call overwrites.
    """

    def __init__(self, stepper: OnnxStep, batch_size: int,
                 state: dict[str, np.ndarray]) -> None:
        self.batch_size = batch_size
        self.tokens = np.zeros((batch_size, 1), dtype=np.int64)  # (B, 1)
        self.logits = np.empty((batch_size, stepper.manifest["vocab_size"]),
                               dtype=np.float32)  # (B, V)
        super().__init__(stepper, state, {stepper.token_name: self.tokens},
                         {stepper.logits_name: self.logits})

    def __call__(self, token_ids: np.ndarray) -> np.ndarray:
        """Feed ids (B,); the logits (B, V), valid until the next call."""
        self.tokens[:, 0] = token_ids
        self._run()
        self._stepper._check_logits(self.logits)
        return self.logits


class ChoosingLoop(_Bound):
    """The choosing loop of a session (``looping_graph``), bound for one batch.

    :meth:`advance` is what :func:`zoo.sampling.loop.continue_choices` calls
    for the next chosen ids: it hands out the choices of the last call and
    makes a call for more when they run out, steps from
    :data:`FIRST_CALL_STEPS` doubling up to :data:`MAX_CALL_STEPS`, never more
    than ``wanted`` choices in all. The draws come from ``rng`` a call at a
    time, the same values in the same order as ``rng.random((B, 1))`` a step
    (so give the generator no other use). Every call's logits are checked.
    """

    def __init__(self, stepper: OnnxStep, state: dict[str, np.ndarray],
                 settings: SamplingSettings, rng: np.random.Generator, wanted: int) -> None:
        assert stepper.batch_size is not None, "a choosing loop runs one batch size"
        batch, vocab = stepper.batch_size, stepper.manifest["vocab_size"]
        self.batch_size = batch
        self._most = max(1, min(MAX_CALL_STEPS, MAX_CALL_LOGITS // (batch * vocab)))
        self.tokens = np.zeros((batch, 1), dtype=np.int64)  # (B, 1) the first fed in a call
        self._steps = np.ones((), dtype=np.int64)
        self._draws = np.zeros((self._most, batch, 1))  # (steps, B, 1) one row a step
        self._chosen = np.zeros((self._most, batch, 1), dtype=np.int64)  # (steps, B, 1)
        self._logits = np.empty((self._most, batch, vocab), dtype=np.float32)
        self._last = np.zeros((batch, 1), dtype=np.int64)
        self._logits_name = stepper.logits_name
        bound = {stepper.token_name: self.tokens, STEPS: self._steps}
        choosing = stepper.choosing
        assert choosing is not None
        self._rng = None if choosing.greedy else rng
        if not choosing.greedy:
            bound[DRAWS] = self._draws
            bound[TEMPERATURE] = np.array(float(settings.temperature))
        if choosing.top_k:
            bound[TOP_K] = np.array([settings.top_k], dtype=np.int64)
        if choosing.top_p and settings.top_p is not None:
            bound[TOP_P] = np.array(float(settings.top_p))
        self._bound_steps = 1
        super().__init__(stepper, state, bound, {**self._step_outputs(1),
                                                 LAST_CHOSEN: self._last})
        self._wanted = wanted
        self._next_call = FIRST_CALL_STEPS
        self._ready: list[list[int]] = []  # the last call's choices, a row (B,) a step
        self._handed = 0  # how many of them went out

    def _step_outputs(self, steps: int) -> dict[str, np.ndarray]:
        return {CHOSEN: self._chosen[:steps], self._logits_name: self._logits[:steps]}

    def _call(self, token_ids: Sequence[int] | np.ndarray, steps: int,
              draw: bool) -> np.ndarray:
        """Feed ids (B,) and take ``steps`` steps; the chosen ids, (steps, B)."""
        if steps != self._bound_steps:
            self._bind_outputs(self._step_outputs(steps))
            self._bound_steps = steps
        self.tokens[:, 0] = token_ids
        self._steps[()] = steps
        if draw and self._rng is not None:
            self._draws[:steps, :, 0] = self._rng.random((steps, self.batch_size))
        self._run()
        self._stepper._check_logits(self._logits[:steps])
        return self._chosen[:steps, :, 0]

    def feed(self, token_ids: np.ndarray) -> None:
        """Feed ids (B,) whose choice is not wanted (the prompt's): no draw is taken."""
        self._call(token_ids, 1, draw=False)

    def advance(self, token_ids: Sequence[int] | np.ndarray) -> list[int]:
        """Feed ids (B,) (the ones handed out last); the ids (B,) chosen after them."""
        if self._handed == len(self._ready):
            steps = max(1, min(self._next_call, self._most, self._wanted))
            self._ready, self._handed = self._call(token_ids, steps, draw=True).tolist(), 0
            self._wanted -= steps
            self._next_call *= 2
        self._handed += 1
        return self._ready[self._handed - 1]


def _bound_run(session: Any, binding: Any) -> Callable[[], None]:
    """A call that runs ``session`` on ``binding``.

    The public ``run_with_iobinding`` first checks the binding's session and
    WebGPU graph capture, a few microseconds a call for a CPU session that
    never captures; the compiled call it ends in is called straight, where
    this onnxruntime has it.
    """
    native_run = getattr(getattr(session, "_sess", None), "run_with_iobinding", None)
    native = getattr(binding, "_iobinding", None)
    if native_run is not None and native is not None:
        return functools.partial(native_run, native, None)
    return functools.partial(session.run_with_iobinding, binding)


def onnxruntime_errors() -> tuple[type[BaseException], ...]:
    """The exception classes onnxruntime raises from a session (none derive from RuntimeError)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

    return tuple(value for value in vars(ort_state).values()
                 if isinstance(value, type) and issubclass(value, Exception))


def load_export_tokenizer(registry: Any, export_dir: Path, manifest: dict[str, Any]) -> Any:
    """The export's tokenizer, rebuilt through the registry from its saved files."""
    from zoo.plugin import build_tokenizer, choose_component

    spec = manifest["tokenizer"]
    recorded = recorded_provider(manifest, "tokenizer")
    choice = choose_component(registry, "tokenizer", spec["name"], spec["config"],
                              section="tokenizer", recorded=recorded, made="this export",
                              from_record=True)
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
    ending samples as :func:`zoo.sampling.torch_sampler.generate` does."""
    settings = settings or SamplingSettings()
    stepper, tokenizer = open_export(registry, Path(export_dir), num_samples, settings)
    context = prompt_ids(tokenizer, prompt, stepper.manifest["sampling"]["start_text"])
    stopping = stopping_for(tokenizer, stop, ignore_end_of_text)
    rng = np.random.default_rng(seed)
    last = np.full(num_samples, context[-1])
    if stepper.choosing is None:  # the graph could not take the choosing loop: numpy chooses
        step = stepper.bind(num_samples)
        for token in context[:-1]:
            step(np.full(num_samples, token))
        return continue_sequences(step(last), step, decode=tokenizer.decode,
                                  max_new_tokens=max_new_tokens, settings=settings, rng=rng,
                                  on_text=on_text, stopping=stopping)
    loop = stepper.choose(settings, rng, max_new_tokens)
    for token in context[:-1]:
        loop.feed(np.full(num_samples, token))
    return continue_choices(loop.advance(last), loop.advance, decode=tokenizer.decode,
                            max_new_tokens=max_new_tokens, on_text=on_text, stopping=stopping)


def score(registry: Any, export_dir: Path, documents: Sequence[str]) -> Scores:
    """Score each of ``documents`` as :mod:`zoo.analysis.scoring` says (``EOT doc EOT``,
    from the initial state), stepping the graph one token at a time with onnxruntime.

    Documents of similar length step side by side, up to :data:`SCORING_ROWS`
    a batch; a row that ends early is padded and its scores left out.
    """
    export_dir = Path(export_dir)
    batch = max(1, min(SCORING_ROWS, len(documents)))
    stepper, tokenizer = open_export(registry, export_dir, batch)

    def read(rows: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        lengths = [max(len(row) - 1, 0) for row in rows]  # predicted tokens of each
        read_back = [(np.zeros(0), np.zeros(0, dtype=np.int64))] * len(rows)
        for group in length_groups(lengths, batch):
            nats, ranks = _step_scores(stepper, [rows[index] for index in group], batch)
            for line, index in enumerate(group):
                read_back[index] = (nats[line, : lengths[index]], ranks[line, : lengths[index]])
        return read_back

    return score_documents(tokenizer, documents, read)


def _step_scores(stepper: OnnxStep, rows: list[np.ndarray], batch: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The surprisal and rank (batch, T) of ``rows`` (at most ``batch``, each read from the
    initial state), stepped together; T is the longest row's predicted tokens."""
    width = max(max(len(row) - 1, 0) for row in rows)
    inputs = np.zeros((batch, width), dtype=np.int64)  # (B, T), padded with token 0
    targets = np.full((batch, width), -1, dtype=np.int64)  # (B, T), padding -1
    for line, row in enumerate(rows):
        inputs[line, : len(row) - 1] = row[:-1]
        targets[line, : len(row) - 1] = row[1:]
    nats = np.zeros((batch, width))
    ranks = np.zeros((batch, width), dtype=np.int64)
    if width == 0:
        return nats, ranks
    step = stepper.bind(batch)
    logits = np.empty((SCORING_STEPS, batch, stepper.manifest["vocab_size"]),
                      dtype=np.float32)  # (steps, B, V)
    for start in range(0, width, SCORING_STEPS):
        stop = min(width, start + SCORING_STEPS)
        for position in range(start, stop):
            logits[position - start] = step(inputs[:, position])
        some_nats, some_ranks = surprisal(logits[: stop - start],
                                          targets[:, start:stop].T)  # (steps, B) each
        nats[:, start:stop], ranks[:, start:stop] = some_nats.T, some_ranks.T
    return nats, ranks


def feed(registry: Any, export_dir: Path) -> tuple[Callable[[Sequence[int]], np.ndarray], Any]:
    """A conversation's way to step the export (``zoo chat EXPORT``), and its tokenizer.

    The feed runs token ids through the graph from the state the last call
    left (the initial state at first) and returns the logits (1, V) after the
    last of them.
    """
    stepper, tokenizer = open_export(registry, Path(export_dir), 1)
    step = stepper.bind(1)

    def run(ids: Sequence[int]) -> np.ndarray:
        if not len(ids):
            raise ValueError("feed at least one token")
        for token in ids:
            logits = step(np.full(1, token))
        return logits.copy()

    return run, tokenizer


def open_export(registry: Any, export_dir: Path, batch_size: int | None = None,
                settings: SamplingSettings | None = None) -> tuple[OnnxStep, Any]:
    """The step (for ``batch_size`` rows, and choosing as ``settings`` say where given)
    and the tokenizer of ``export_dir``, reused from an earlier call while no file of the
    export has changed.

    Opening an export costs more than sampling a few hundred tokens from a
    small model: the model file's sha256, the manifest's schema, the
    tokenizer, and an onnxruntime session that optimizes the graph (a few
    milliseconds for a GRU, a few hundred for the transformer). A changed,
    added or removed file (by size, modification time or inode) opens it
    afresh, with every check.
    """
    files = _files_of(export_dir)
    head = None if settings is None else (settings.temperature == 0, settings.top_k,
                                          settings.top_p is not None and settings.top_p < 1)
    threads = cpu_threads()  # zoo sample --threads; None: onnxruntime's default
    key = (str(export_dir.resolve()), batch_size, head, threads, id(registry), files)
    with _OPENING:
        opened = _OPENED.pop(key, None)
    if opened is None:
        stepper = OnnxStep(export_dir, threads=threads, choose_for=settings,
                           batch_size=batch_size)
        opened = (stepper, load_export_tokenizer(registry, export_dir, stepper.manifest),
                  registry)  # the registry is held, so that its id is not reused
    if files is not None:
        with _OPENING:
            _OPENED[key] = opened  # most recently used last
            while len(_OPENED) > _OPENED_KEPT:
                _OPENED.pop(next(iter(_OPENED)))
    return opened[0], opened[1]


def _files_of(directory: Path) -> tuple[tuple[Any, ...], ...] | None:
    """Every file under ``directory`` with its size, times and inode; None if unreadable."""
    try:
        found = []
        for root, _, names in os.walk(directory):
            for name in names:
                path = os.path.join(root, name)
                seen = os.stat(path)
                found.append((path, seen.st_size, seen.st_mtime_ns, seen.st_ctime_ns,
                              seen.st_ino))
        return tuple(sorted(found))
    except OSError:
        return None


#: Exports :func:`open_export` keeps open, least recently used first.
_OPENED: OrderedDict[Any, tuple[OnnxStep, Any, Any]] = OrderedDict()
_OPENED_KEPT = 4
_OPENING = threading.Lock()  # samplers may run in threads (zoo.api streams from one)
