"""``zoo compare``'s table: runs side by side, best first, and their loss curves."""

from __future__ import annotations

import dataclasses
from html import escape
from typing import TYPE_CHECKING, Any

from zoo.analysis.tables import html_table, text_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def rank_rows(rows: list[dict[str, Any]]) -> tuple[list[int], str]:
    """The order of ``rows``, best first, and the figure it ranks by: bits per character when
    the tokenizers differ (loss per token is not comparable then), else validation loss."""
    ranked_by = "bits_per_char" if len({r["tokenizer"] for r in rows}) > 1 else "val_loss"
    return sorted(range(len(rows)), key=lambda i: rows[i][ranked_by]), ranked_by


@dataclasses.dataclass
class Comparison:
    """``zoo compare``'s table: one row per run, best first, and the runs' loss curves.

    Runs are ranked by bits per character when their tokenizers differ (loss
    per token is not comparable then), else by validation loss.
    """

    rows: list[dict[str, Any]]
    ranked_by: str  # "bits_per_char" or "val_loss"
    _curves: list[tuple[str, list[dict[str, Any]]]] = dataclasses.field(repr=False)

    COLUMNS = [("rank", "#"), ("run", "run"), ("architecture", "arch"),
               ("tokenizer", "tokenizer"), ("dataset", "dataset"), ("parameters", "params"),
               ("val_loss", "val loss"), ("bits_per_char", "bits/char"),
               ("train_tokens_per_s", "train tok/s"), ("sample_tokens_per_s", "sample tok/s")]

    @classmethod
    def of(cls, rows: list[dict[str, Any]],
           curves: list[tuple[str, list[dict[str, Any]]]]) -> Comparison:
        """The comparison of unordered ``rows`` and their ``curves`` (one each, same order)."""
        order, ranked_by = rank_rows(rows)
        for rank, index in enumerate(order, start=1):
            rows[index]["rank"] = rank
        return cls([rows[i] for i in order], ranked_by, [curves[i] for i in order])

    def table(self) -> list[list[str]]:
        """The header and one row of formatted cells per run."""
        def cell(key: str, value: Any) -> str:
            if value is None:
                return "-"
            if key == "parameters":
                return f"{value / 1e6:.2f}M"
            if key in ("val_loss", "bits_per_char"):
                return f"{value:.4f}" if key == "val_loss" else f"{value:.3f}"
            if key.endswith("tokens_per_s"):
                return f"{value:,.0f}"
            return str(value)

        header = [title for _, title in self.COLUMNS]
        # a run is shown by its curve's label: a directory's name, or a pretrained model's
        return [header] + [[label if key == "run" else cell(key, row.get(key))
                            for key, _ in self.COLUMNS]
                           for row, (label, _) in zip(self.rows, self._curves, strict=True)]

    def __str__(self) -> str:
        numeric = {i for i, (key, _) in enumerate(self.COLUMNS)
                   if key in ("rank", "parameters", "val_loss", "bits_per_char")
                   or key.endswith("tokens_per_s")}
        return (text_table(self.table(), right_aligned=numeric)
                + f"\nranked by {self.ranked_by.replace('_', ' ')}")

    def _repr_html_(self) -> str:

        return (html_table(self.table())
                + f"<p>ranked by {escape(self.ranked_by.replace('_', ' '))}</p>")

    def plot(self) -> Figure:
        """Loss curves of every run, by step and by wall time.

        In bits per character when the tokenizers differ (the training curve
        converted with each run's validation tokens per character), else in
        nats per token.
        """
        from zoo.analysis.plots import loss_curves  # matplotlib, only when a plot is asked for

        unit = "bits/char" if self.ranked_by == "bits_per_char" else "nats/token"
        return loss_curves(self._curves, unit=unit)
