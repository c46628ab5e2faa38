"""The choosing loop: the step graph wrapped, in memory, so that onnxruntime chooses tokens.

:func:`choosing_graph` adds a head that chooses each row's next token from
the logits, computing :func:`zoo.sampling.loop.token_chooser`'s formula in
float64 from the same uniform draws; :func:`looping_graph` puts the step and
that head in the body of an ONNX ``Loop``, so that one onnxruntime call takes
many steps, each fed the token the one before chose. ``model.onnx`` is never
changed: the sampler builds this graph when it opens an export.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.plugin import SamplingSettings

#: The choosing head's inputs and its output (:func:`choosing_graph`).
DRAW, TEMPERATURE, TOP_K, TOP_P, CHOSEN = (
    "zoo_draw", "zoo_temperature", "zoo_top_k", "zoo_top_p", "zoo_chosen")
#: The choosing loop's inputs and its last output (:func:`looping_graph`).
STEPS, DRAWS, LAST_CHOSEN = "zoo_steps", "zoo_draws", "zoo_last_chosen"
_HEAD, _BODY = "zoo_choose/", "zoo_loop/"  # prefixes of every other name they add


@dataclass(frozen=True)
class Choosing:
    """Which choosing head a graph has: what the sampling settings need."""

    greedy: bool  # temperature 0: the argmax
    top_k: bool  # a top-k below the vocabulary size
    top_p: bool  # a top-p below 1

    @classmethod
    def of(cls, settings: SamplingSettings, vocab: int) -> Choosing:
        greedy = settings.temperature == 0
        return cls(greedy, not greedy and settings.top_k is not None and settings.top_k < vocab,
                   not greedy and settings.top_p is not None and settings.top_p < 1)


def _opset(model: Any) -> int:
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
               default=0)


def choosing_graph(model: Any, logits: str, choosing: Choosing, vocab: int) -> Any | None:
    """``model`` (an ONNX ModelProto, changed in place) with a head that chooses each row's
    next token from ``logits``, as the graph output :data:`CHOSEN` (int64 [batch, 1]).

    The head computes :func:`zoo.sampling.loop.token_chooser`'s formula in
    float64: ``logits / temperature``, scores below the k-th largest set to
    -inf, the softmax, top-p's most likely set, the running total, and the
    count of running totals at or below the draw times the total. Its inputs:
    :data:`DRAW` (float64 [batch, 1], uniform in [0, 1)), :data:`TEMPERATURE`
    (float64 []), :data:`TOP_K` (int64 [1]) and :data:`TOP_P` (float64 []),
    each only where the settings use it. Greedy is one ArgMax, exact.

    What numpy and onnxruntime may round differently (exp, the order of a
    sum: an ulp) moves a boundary between two tokens by about 1e-16 of the
    total, so the two choose differently only for a draw that falls that
    close to one. Nothing is ordered by a rounded value: top-p's order comes
    from the scores (exp keeps their order, and onnxruntime's exp may give two
    equal scores values an ulp apart).

    Returns None where the graph's opset is older than 13 or a name is taken;
    the sampler then chooses in numpy.
    """
    from onnx import TensorProto, helper

    opset = _opset(model)
    graph = model.graph
    names = {name for node in graph.node for name in [*node.input, *node.output]}
    names |= {t.name for t in [*graph.input, *graph.output, *graph.initializer]}
    if opset < 13 or any(n.startswith((_HEAD, _BODY)) or n in (
            DRAW, TEMPERATURE, TOP_K, TOP_P, CHOSEN, STEPS, DRAWS, LAST_CHOSEN) for n in names):
        return None
    double, int64 = TensorProto.DOUBLE, TensorProto.INT64
    nodes: list[Any] = []
    constants: dict[str, Any] = {}

    def constant(name: str, dtype: int, dims: list[int], value: float) -> str:
        if name not in constants:
            constants[name] = helper.make_tensor(f"{_HEAD}{name}", dtype, dims, [value])
        return f"{_HEAD}{name}"

    def op(kind: str, inputs: list[str], outputs: int = 1, **attributes: Any) -> Any:
        made = [f"{_HEAD}{len(nodes)}_{i}" for i in range(outputs)]
        nodes.append(helper.make_node(kind, inputs, made, name=f"{_HEAD}{len(nodes)}",
                                      **attributes))
        return made[0] if outputs == 1 else made

    def last_axis(kind: str, x: str) -> str:  # a reduction along the vocabulary, kept (B, 1)
        if kind == "ReduceSum" or opset >= 18:
            return op(kind, [x, constant("last_axis", int64, [1], -1)], keepdims=1)
        return op(kind, [x], axes=[-1], keepdims=1)

    added_inputs: list[tuple[str, int, list[Any]]] = []
    if choosing.greedy:
        op("ArgMax", [logits], axis=-1, keepdims=1)
    else:
        added_inputs += [(DRAW, double, ["batch", 1]), (TEMPERATURE, double, [])]
        scores = op("Div", [op("Cast", [logits], to=double), TEMPERATURE])  # (B, V)
        if choosing.top_k:
            added_inputs.append((TOP_K, int64, [1]))
            values, _ = op("TopK", [scores, TOP_K], outputs=2, axis=-1, largest=1, sorted=1)
            below = op("Less", [scores, last_axis("ReduceMin", values)])  # under the k-th
            scores = op("Where", [below, constant("minus_inf", double, [], -np.inf), scores])
        probs = op("Softmax", [scores], axis=-1)  # (B, V) exp(s - max) / sum
        if choosing.top_p:
            added_inputs.append((TOP_P, double, []))
            _, order = op("TopK", [scores, constant("vocab", int64, [1], vocab)], outputs=2,
                          axis=-1, largest=1, sorted=1)  # most likely first; ties by index
            ranked = op("GatherElements", [probs, order], axis=-1)
            before = op("Sub", [op("CumSum", [ranked, constant("axis", int64, [], -1)]),
                                ranked])
            keep_ranked = op("Less", [before, TOP_P])
            none = op("ConstantOfShape", [op("Shape", [probs])],
                      value=helper.make_tensor("false", TensorProto.BOOL, [1], [False]))
            keep = op("ScatterElements", [none, order, keep_ranked], axis=-1)
            kept = op("Where", [keep, probs, constant("zero", double, [], 0.0)])
            probs = op("Div", [kept, last_axis("ReduceSum", kept)])
        cumulative = op("CumSum", [probs, constant("axis", int64, [], -1)])  # (B, V)
        total = op("Gather", [cumulative, constant("last_axis", int64, [1], -1)],
                   axis=-1)  # (B, 1)
        reached = op("LessOrEqual", [cumulative, op("Mul", [DRAW, total])])
        last_axis("ReduceSum", op("Cast", [reached], to=int64))  # (B, 1)
    nodes[-1].output[0] = CHOSEN
    graph.node.extend(nodes)
    graph.initializer.extend(constants.values())
    graph.input.extend(helper.make_tensor_value_info(*added) for added in added_inputs)
    graph.output.append(helper.make_tensor_value_info(CHOSEN, int64, ["batch", 1]))
    return model


def looping_graph(model: Any, token: str, logits: str, state: list[tuple[str, str]],
                  choosing: Choosing, vocab: int, batch: int) -> Any | None:
    """``model`` (changed in place) as a graph that takes :data:`STEPS` steps in one call,
    each feeding the token the one before chose (:func:`choosing_graph`'s head).

    The step and its head become the body of an ONNX ``Loop``. Inputs: the
    step's token (the first one fed) and state inputs, :data:`STEPS` (int64
    []), :data:`DRAWS` (float64 [steps, batch, 1]: row i is step i's draw) and
    the head's settings. Outputs: the step's logits, one row a step ([steps,
    batch, V]), its state outputs after the last step, :data:`CHOSEN` ([steps,
    batch, 1]) and :data:`LAST_CHOSEN` (the last of them). ``state`` pairs each
    state input with its output; ``batch`` is the batch size the body is
    typed for.

    Returns None where the head cannot be added, or the graph holds a
    subgraph of its own (its names would need renaming inside it too).
    """
    from onnx import AttributeProto, TensorProto, helper

    if any(a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS)
           for node in model.graph.node for a in node.attribute):
        return None
    graph = model.graph
    inputs = {t.name: copy.deepcopy(t) for t in graph.input}
    outputs = {t.name for t in graph.output}
    if (token not in inputs or logits not in outputs
            or any(i not in inputs or o not in outputs for i, o in state)):
        return None
    if choosing_graph(model, logits, choosing, vocab) is None:
        return None
    int64 = TensorProto.INT64
    sampling = not choosing.greedy
    carried = [token, *[i for i, _ in state]]
    produced = [CHOSEN, *[o for _, o in state], logits]
    renamed = {name: _BODY + name for name in [*carried, *produced, DRAW]}
    for node in graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
        node.output[:] = [renamed.get(name, name) for name in node.output]

    def typed(name: str, like: Any) -> Any:
        tensor = like.type.tensor_type
        dims = [batch if d.dim_param else d.dim_value for d in tensor.shape.dim]
        return helper.make_tensor_value_info(name, tensor.elem_type, dims)

    body_nodes = list(graph.node)
    if sampling:  # this step's draws: row `iteration` of DRAWS, (batch, 1)
        body_nodes.insert(0, helper.make_node("Gather", [DRAWS, f"{_BODY}iteration"],
                                              [renamed[DRAW]], name=f"{_BODY}draw", axis=0))
    # the chosen ids are both carried to the next step and gathered a row a step
    body_nodes.append(helper.make_node("Identity", [renamed[CHOSEN]], [f"{_BODY}chosen_row"],
                                       name=f"{_BODY}chosen_row"))
    token_type = helper.make_tensor_value_info("", int64, [batch, 1])
    body = helper.make_graph(
        body_nodes, f"{_BODY}body",
        [helper.make_tensor_value_info(f"{_BODY}iteration", int64, []),
         helper.make_tensor_value_info(f"{_BODY}condition", TensorProto.BOOL, []),
         *[typed(renamed[name], inputs[name]) for name in carried]],
        [helper.make_tensor_value_info(f"{_BODY}condition", TensorProto.BOOL, []),
         typed(renamed[CHOSEN], token_type),
         *[typed(renamed[o], inputs[i]) for i, o in state],
         typed(f"{_BODY}chosen_row", token_type),
         helper.make_tensor_value_info(renamed[logits], TensorProto.FLOAT, [batch, vocab])],
        value_info=[v for v in graph.value_info if v.name not in renamed])
    loop = helper.make_node("Loop", [STEPS, "", *carried],
                            [LAST_CHOSEN, *[o for _, o in state], CHOSEN, logits],
                            name=f"{_BODY}loop", body=body)
    kept_inputs = [copy.deepcopy(t) for t in graph.input if t.name != DRAW]
    del graph.node[:], graph.value_info[:], graph.input[:], graph.output[:]
    graph.node.append(loop)
    graph.input.extend(kept_inputs + [helper.make_tensor_value_info(STEPS, int64, [])])
    if sampling:
        graph.input.append(helper.make_tensor_value_info(DRAWS, TensorProto.DOUBLE,
                                                         ["steps", batch, 1]))
    graph.output.extend([
        helper.make_tensor_value_info(logits, TensorProto.FLOAT, ["steps", batch, vocab]),
        *[typed(o, inputs[i]) for i, o in state],
        helper.make_tensor_value_info(CHOSEN, int64, ["steps", batch, 1]),
        helper.make_tensor_value_info(LAST_CHOSEN, int64, [batch, 1])])
    return model
