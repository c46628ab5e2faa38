"""The web page's sampling graphs: the step in an ONNX ``Loop`` that chooses its own tokens.

onnxruntime-web pays a fixed cost for every ``session.run``, larger than a
small model's step, so a page that runs one step a call spends most of its
time calling. :func:`write_sampler` writes, beside ``model.onnx``, the step
at batch 1 in :func:`zoo_exports.choosing_graph.looping_graph`'s loop, so
that one call takes many steps and the page never sees a logit. In
WebAssembly every node of the choosing head costs a few microseconds a step,
as much as a small model's arithmetic, so there is one graph per head and
the page runs the one its settings need:

- ``sampler-greedy.onnx``: the argmax (temperature 0);
- ``sampler.onnx``: temperature alone (the page's default settings);
- ``sampler-top.onnx``: temperature with top-k and top-p, both inputs (the
  vocabulary size and 1 when one of them is off).

The three hold the same weights, stored once in ``sampler.weights`` (ONNX
external data), which the page fetches once for every graph. The draws are
the page's own, one a step, in the order its per-step chooser would take
them. Before the export is written, the greedy graph's choices are checked
against the step graph's argmax, step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.plugin import ZooError
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
from zoo_exports.manifest import token_and_logits

#: Each graph the page may run: its file and its choosing head.
SAMPLER_GRAPHS = {
    "greedy": ("sampler-greedy.onnx", Choosing(greedy=True, top_k=False, top_p=False)),
    "temperature": ("sampler.onnx", Choosing(greedy=False, top_k=False, top_p=False)),
    "top": ("sampler-top.onnx", Choosing(greedy=False, top_k=True, top_p=True)),
}
#: The weights the graphs share (ONNX external data); tensors under 1 kB stay inline.
WEIGHTS_FILE, INLINE_BYTES = "sampler.weights", 1024
#: Greedy steps compared with the step graph's argmax before the export is written.
CHECK_STEPS = 64
#: The largest model.onnx put in a loop (one protobuf holds at most 2 GB).
MOST_MODEL_BYTES = 1_800_000_000


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_sampler(directory: Path, manifest: dict[str, Any],
                  log: Callable[[str], None]) -> dict[str, Any] | None:
    """Write the page's sampling graphs and their weights into the export being made in
    ``directory``; return the manifest's ``web.sampler`` entry, or None (the page then
    steps one token a call) where the step cannot be put in a loop, said through ``log``."""
    import onnx
    from onnx.external_data_helper import convert_model_to_external_data

    model_path = directory / manifest["model_file"]
    if model_path.stat().st_size > MOST_MODEL_BYTES:
        log("the page steps one token a call: model.onnx is too big to wrap in a loop")
        return None
    token, logits = token_and_logits(manifest)
    wiring = [(w["input"], w["output"]) for w in manifest["state"]]
    made = {kind: looping_graph(onnx.load(str(model_path)), token, logits, wiring, choosing,
                                manifest["vocab_size"], batch=1)
            for kind, (_, choosing) in SAMPLER_GRAPHS.items()}
    graphs = {kind: graph for kind, graph in made.items() if graph is not None}
    if len(graphs) < len(made):
        log("the page steps one token a call: the step graph holds a subgraph or an opset "
            "before 13, which the choosing loop cannot wrap")
        return None
    first, *others = graphs
    convert_model_to_external_data(graphs[first], all_tensors_to_one_file=True,
                                   location=WEIGHTS_FILE, size_threshold=INLINE_BYTES)
    onnx.save_model(graphs[first], str(directory / SAMPLER_GRAPHS[first][0]))
    # saving gave each stored tensor its place in WEIGHTS_FILE; the others point there too
    stored = {t.name: t for t in graphs[first].graph.initializer
              if t.data_location == onnx.TensorProto.EXTERNAL}
    for kind in others:
        for tensor in graphs[kind].graph.initializer:
            if tensor.name in stored:
                tensor.ClearField("raw_data")
                tensor.data_location = onnx.TensorProto.EXTERNAL
                tensor.external_data.extend(stored[tensor.name].external_data)
        onnx.save_model(graphs[kind], str(directory / SAMPLER_GRAPHS[kind][0]))
    entry = {
        "batch_size": 1,
        "weights": {"file": WEIGHTS_FILE, "sha256": _sha256(directory / WEIGHTS_FILE)},
        "graphs": {kind: {"file": file, "sha256": _sha256(directory / file)}
                   for kind, (file, _) in SAMPLER_GRAPHS.items()},
        "inputs": {"steps": STEPS, "draws": DRAWS, "temperature": TEMPERATURE,
                   "top_k": TOP_K, "top_p": TOP_P},
        "outputs": {"chosen": CHOSEN, "last_chosen": LAST_CHOSEN},
    }
    mismatch = greedy_mismatch(directory, manifest, entry)
    if mismatch is not None:
        raise ZooError(f"the page's sampling graph chose differently from the step graph "
                       f"({mismatch}); nothing was written. Export with --onnx instead, and "
                       "report this with the run's architecture")
    log(f"page sampler: {', '.join(file for file, _ in SAMPLER_GRAPHS.values())}, many steps "
        f"a call; greedy choices checked over {CHECK_STEPS} steps")
    return entry


def greedy_mismatch(directory: Path, manifest: dict[str, Any],
                    entry: dict[str, Any]) -> str | None:
    """Where the sampler's greedy choices first differ from the step graph's argmax over
    :data:`CHECK_STEPS` steps from token 0, or None where they agree."""
    import onnxruntime

    from zoo_exports.onnx_sampler import OnnxStep

    stepper = OnnxStep(directory, manifest=manifest)
    state = stepper.initial_state(1)
    token, expected = 0, []
    for _ in range(CHECK_STEPS):
        logits, state = stepper.step(np.array([token]), state)
        token = int(np.argmax(logits[0]))
        expected.append(token)
    session = onnxruntime.InferenceSession(str(directory / entry["graphs"]["greedy"]["file"]),
                                           providers=["CPUExecutionProvider"])
    chosen = session.run([entry["outputs"]["chosen"]], {
        stepper.token_name: np.zeros((1, 1), dtype=np.int64), **stepper.initial_state(1),
        entry["inputs"]["steps"]: np.array(CHECK_STEPS, dtype=np.int64)})[0]
    made = chosen[:, 0, 0].tolist()
    differing = next((i for i, (a, b) in enumerate(zip(made, expected, strict=True)) if a != b),
                     None)
    return None if differing is None else (
        f"step {differing}: token {made[differing]} against {expected[differing]}")
