"""Plots as matplotlib Figures (for notebooks and ``--plot``): loss curves of one or more runs,
and a corpus's token frequencies.

Imported only when something is plotted: it imports matplotlib.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from zoo.data.stats import CorpusStats

Curves = Sequence[tuple[str, list[dict[str, Any]]]]  # (label, the run's metrics records)


class NotebookFigure(Figure):
    """A matplotlib Figure that Jupyter draws inline as PNG, whatever its backend setup.

    It is made without pyplot, so it is neither kept in pyplot's global list
    nor shown twice; without pyplot's inline backend a bare Figure would show
    only as text in Jupyter, so ``_repr_png_`` gives it a picture.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _bits_per_char_factor(metrics: list[dict[str, Any]]) -> float:
    """bits/char per nat/token of a run: its validation records carry both numbers."""
    val = [m for m in metrics if m.get("split") == "val" and m.get("loss")]
    return val[-1]["bits_per_char"] / val[-1]["loss"] if val else float("nan")


def loss_curves(curves: Curves, unit: str = "nats/token") -> Figure:
    """Validation (solid, dots) and training (faint) loss by step and by wall time.

    ``unit="bits/char"`` puts runs with different tokenizers on one scale:
    each run's losses are multiplied by its validation bits/char per
    nat/token (the training curve shares that factor: an estimate).
    """
    figure = NotebookFigure(figsize=(12, 4.5))
    by_step, by_time = figure.subplots(1, 2, sharey=True)
    for index, (label, metrics) in enumerate(curves):
        scale = _bits_per_char_factor(metrics) if unit == "bits/char" else 1.0
        color = f"C{index % 10}"
        for split, style in (("train", {"alpha": 0.3, "linewidth": 1}), ("val", {"marker": "o"})):
            points = [m for m in metrics if m.get("split") == split]
            losses = [m["loss"] * scale for m in points]
            by_step.plot([m["step"] for m in points], losses, color=color,
                         label=label if split == "val" else None, **style)
            by_time.plot([m["elapsed_s"] for m in points], losses, color=color, **style)
    by_step.set(xlabel="step", ylabel=f"loss ({unit}); faint: training", title="loss by step")
    by_time.set(xlabel="seconds", title="loss by wall time")
    by_step.legend(fontsize="small")
    for axes in (by_step, by_time):
        axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def frequency_histogram(stats: CorpusStats, top: int = 60) -> Any:
    """A bar chart of the ``top`` commonest train tokens, and the rank-frequency curve of all."""
    figure = NotebookFigure(figsize=(13, 4.5))
    bars, ranks = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    shown = stats.frequencies[:top]
    bars.bar(range(len(shown)), [count for _, count in shown], color="C0")
    bars.set_xticks(range(len(shown)), [label for label, _ in shown], rotation=90,
                    fontsize="small", family="monospace")
    bars.set(ylabel="count in the train split",
             title=f"{stats.dataset} through {stats.tokenizer}: the {len(shown)} commonest "
                   f"of {stats.used:,} tokens used")
    counts = [count for _, count in stats.frequencies]
    ranks.loglog(range(1, len(counts) + 1), counts, color="C1")
    ranks.set(xlabel="rank", ylabel="count", title="all tokens, by rank")
    for axes in (bars, ranks):
        axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure
