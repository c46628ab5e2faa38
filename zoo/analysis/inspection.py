"""Looking inside a model: what its ``inspect(idx)`` method exposes, and how surprised it is
by each token, drawn against the text.

An architecture may offer ``inspect(idx) -> dict[str, Tensor]`` (see the plugin
guide, docs/plugins/hooks.md). Every model, run or export, also has the
``surprisal`` view, made from its logits alone (:func:`with_surprisal`). Each view is
one of four shapes, drawn by its number of dimensions:

- ``(T,)``: a value per token (the surprisal, in nats): one strip under the tokens;
- ``(layers, T, units)``: a value per layer, position and unit (gates in
  [0, 1], hidden states): one heatmap per layer, units down, tokens across;
- ``(layers, heads, T, T)``: attention weights: one map per layer and head,
  queries down, keys across;
- ``(V, V)`` or ``(T, V)``: a table over the vocabulary (the bigram's
  next-token probabilities), labelled with the tokens.

torch is imported only by :func:`inspect_text`, which runs a PyTorch model: an
export's surprisal view is made and drawn without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.analysis.scoring import Scores, surprisal_view
from zoo.data.stats import token_label
from zoo.errors import ZooError
from zoo.sampling.loop import prompt_ids

#: The most units a (layers, T, units) heatmap shows, so that each stays readable.
MAX_UNITS = 32


@dataclass
class Inspection:
    """What a model exposed while reading a text: the tokens, and each view as an array."""

    architecture: str
    tokens: list[str]  # the text's tokens as read, the leading end of text included
    vocabulary: list[str]  # every token's label, for views over the vocabulary
    views: dict[str, np.ndarray]

    def to_dict(self) -> dict[str, Any]:
        """The numbers, for ``--json``: tokens and each view as nested lists (a value that
        is not a number, such as the first token's surprisal, as null)."""
        return {"architecture": self.architecture, "tokens": self.tokens,
                "views": {name: {"shape": list(view.shape),
                                 "values": _json_values(view.round(5))}
                          for name, view in self.views.items()}}

    def summary(self) -> list[tuple[str, tuple[int, ...], float, float, float]]:
        """Each view's name, shape, and least, mean and largest value (NaN left out)."""
        rows = []
        for name, view in self.views.items():
            known = view[~np.isnan(view)]
            low, mean, high = ((float(known.min()), float(known.mean()), float(known.max()))
                               if known.size else (np.nan, np.nan, np.nan))
            rows.append((name, tuple(view.shape), low, mean, high))
        return rows

    def plot(self, units: int = MAX_UNITS) -> Any:
        """Every view as heatmaps against the tokens: a matplotlib Figure."""
        return draw(self, units)


def _json_values(view: np.ndarray) -> Any:
    """``view`` as nested lists, NaN as None (JSON has no NaN)."""
    values = view.astype(object)
    values[np.isnan(view)] = None
    return values.tolist()


def with_surprisal(inspection: Inspection | None, scores: Scores,
                   architecture: str) -> Inspection:
    """``inspection`` (or, for None, an inspection of no other view) with the
    ``surprisal`` view: each token's surprisal in nats, NaN for the first, from
    ``scores`` of the same text as one document."""
    ids, values = surprisal_view(scores.documents[0])
    tokens = [scores.label(int(token)) for token in ids]
    if inspection is None:
        return Inspection(architecture, tokens, [], {"surprisal": values})
    if inspection.tokens != tokens:
        raise ZooError(f"the text reads as {len(inspection.tokens)} tokens to the model's "
                       f"inspect() and {len(tokens)} to its scoring; give text the tokenizer "
                       "can represent")
    return Inspection(inspection.architecture, inspection.tokens, inspection.vocabulary,
                      {**inspection.views, "surprisal": values})


def inspect_text(model: Any, tokenizer: Any, text: str, architecture: str) -> Inspection:
    """Run ``model.inspect`` on ``text`` (from the initial state, after end of text)."""
    import torch  # only a PyTorch model is inspected here; an export's view needs no torch

    inspect = getattr(model, "inspect", None)
    if inspect is None:
        raise ZooError(f"architecture {architecture!r} exposes nothing to inspect; its plugin "
                       "can add an inspect(idx) method (docs/plugins/hooks.md)")
    ids = prompt_ids(tokenizer, text)
    device = next(model.parameters()).device
    with torch.no_grad():
        raw = inspect(torch.tensor([ids], dtype=torch.long, device=device))
    views = {str(name): value.detach().float().cpu().numpy() for name, value in raw.items()}
    for name, view in views.items():
        T = len(ids)
        fits = ((view.ndim == 1 and view.shape[0] == T) or (view.ndim == 3 and view.shape[1] == T)
                or (view.ndim == 4 and view.shape[2:] == (T, T)) or view.ndim == 2)
        if not fits:
            raise ZooError(f"architecture {architecture!r}: its inspect() view {name!r} has "
                           f"shape {list(view.shape)} for {T} tokens; views are (T,), (layers, "
                           "T, units), (layers, heads, T, T) or (rows, V); fix the plugin")
    vocabulary = [token_label(tokenizer, i) for i in range(tokenizer.vocab_size)]
    return Inspection(architecture, [token_label(tokenizer, i) for i in ids], vocabulary, views)


def draw(inspection: Inspection, units: int = MAX_UNITS) -> Any:
    """Heatmaps of every view (see the module docstring), labelled with the tokens."""
    from zoo.analysis.plots import NotebookFigure  # matplotlib: only when a plot is drawn

    panels: list[tuple[str, np.ndarray, list[str], list[str], tuple[float, float] | None]] = []
    columns = 1
    tokens = inspection.tokens
    for name, view in inspection.views.items():
        if view.ndim == 1:  # (T,): one strip, tokens across
            row = ["nats"] if name == "surprisal" else [name]
            panels.append((name, view[None, :], tokens, row, None))
        elif view.ndim == 3:  # (layers, T, units): units down, tokens across
            for layer, values in enumerate(view):
                shown = values[:, :units].T  # (units, T)
                limits = (0.0, 1.0) if values.min() >= 0 and values.max() <= 1 else None
                panels.append((f"{name}, layer {layer} (first {shown.shape[0]} units)", shown,
                               tokens, [], limits))
        elif view.ndim == 4:  # (layers, heads, T, T)
            columns = max(columns, view.shape[1])
            for layer, heads in enumerate(view):
                for head, values in enumerate(heads):
                    panels.append((f"{name}, layer {layer}, head {head}", values, tokens,
                                   tokens, (0.0, 1.0)))
        else:  # (rows, V): a table over the vocabulary
            rows = inspection.vocabulary if view.shape[0] == view.shape[1] else tokens
            panels.append((name, view, inspection.vocabulary, rows, None))
    rows_needed = -(-len(panels) // columns)
    # an attention map needs a row per query: taller panels when there is one
    row_height = max(2.6, 0.2 * len(tokens)) if columns > 1 or any(
        view.ndim == 4 for view in inspection.views.values()) else 2.6
    figure = NotebookFigure(figsize=(max(8.0, 0.28 * len(tokens) * columns),
                                     row_height * rows_needed))
    grid = figure.subplots(rows_needed, columns, squeeze=False)
    for axes, (title, values, across, down, limits) in zip(grid.flat, panels, strict=False):
        image = axes.imshow(values, aspect="auto", cmap="viridis", interpolation="nearest",
                            vmin=None if limits is None else limits[0],
                            vmax=None if limits is None else limits[1])
        axes.set_title(title, fontsize="small")
        axes.set_xticks(range(len(across)), across, fontsize=6, family="monospace",
                        rotation=90)
        if down:
            axes.set_yticks(range(len(down)), down, fontsize=6, family="monospace")
        figure.colorbar(image, ax=axes, fraction=0.02, pad=0.01)
    for axes in list(grid.flat)[len(panels):]:
        axes.set_visible(False)
    figure.suptitle(f"inside {inspection.architecture}", fontsize="medium")
    figure.tight_layout()
    return figure
