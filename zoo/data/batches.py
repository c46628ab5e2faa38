"""Batches drawn from token streams: random windows, contiguous streams (truncated BPTT),
padded document rows, and the evaluation's batches.

numpy only; the training step turns batches into tensors (:mod:`zoo.training.steps`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from zoo.config.training import TrainConfig
from zoo.data.documents import document_windows, padded_rows
from zoo.data.streams import TokenStream
from zoo.errors import ZooError

Batch = tuple[np.ndarray, np.ndarray]  # inputs (B, T), targets (B, T), int64; padding -1


def _windows(ids: np.ndarray, starts: np.ndarray, block_size: int) -> Batch:
    offsets = starts[:, None] + np.arange(block_size + 1)  # (B, T+1)
    windows = ids[offsets].astype(np.int64)
    return windows[:, :-1], windows[:, 1:]


class RandomWindows:
    """Training batches of windows at random offsets (nanoGPT's ``get_batch``).

    Each rank of a distributed job draws from its own seeded generator; the
    generator's state is JSON-serializable so a resumed run draws the same
    batches the uninterrupted run would have.
    """

    def __init__(self, stream: TokenStream, block_size: int, batch_size: int, seed: int,
                 rank: int = 0, world_size: int = 1) -> None:
        self.ids = stream.ids
        self.block_size = block_size
        self.batch_size = batch_size
        self.rng = np.random.default_rng([seed, rank])

    def next_batch(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """Inputs, targets, and whether carried state must be reset (never, here)."""
        starts = self.rng.integers(0, len(self.ids) - self.block_size, size=self.batch_size)
        return (*_windows(self.ids, starts, self.block_size), False)

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "random", "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]


class ContiguousStreams:
    """Training batches for truncated BPTT: row ``r`` reads its own contiguous stretch.

    The split is cut into ``batch_size * world_size`` equal stretches; every
    step moves all rows forward by ``block_size`` tokens, so the hidden state
    at the end of one batch is the right start for the next. When the
    stretches run out they start over and the carried state is reset.
    """

    def __init__(self, stream: TokenStream, block_size: int, batch_size: int, seed: int,
                 rank: int = 0, world_size: int = 1) -> None:
        rows = batch_size * world_size
        self.stretch = len(stream.ids) // rows
        if self.stretch < block_size + 1:
            raise ZooError(
                f"--stateful needs {rows} x {block_size + 1} train tokens, the split has "
                f"{len(stream.ids)}; use a smaller --batch-size or --block-size"
            )
        first_row = rank * batch_size
        self.starts = (np.arange(first_row, first_row + batch_size) * self.stretch)  # (B,)
        self.ids = stream.ids
        self.block_size = block_size
        self.cursor = 0  # offset inside every stretch

    def next_batch(self) -> tuple[np.ndarray, np.ndarray, bool]:
        reset = self.cursor == 0
        x, y = _windows(self.ids, self.starts + self.cursor, self.block_size)
        self.cursor += self.block_size
        if self.cursor + self.block_size + 1 > self.stretch:
            self.cursor = 0
        return x, y, reset

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "streams", "cursor": self.cursor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.cursor = int(state["cursor"])


class DocumentRows:
    """Training batches of one document per row, padded, the padding's loss masked.

    Rows are drawn at random from every document window of the stream (see
    :func:`zoo.data.documents.document_windows`), from a seeded generator as in
    :class:`RandomWindows`; a batch is as wide as its longest row.
    """

    def __init__(self, stream: TokenStream, block_size: int, batch_size: int, seed: int,
                 rank: int = 0, world_size: int = 1) -> None:
        self.stream = stream
        self.windows = stream_windows(stream, block_size)
        self.batch_size = batch_size
        self.rng = np.random.default_rng([seed, rank])

    def next_batch(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """Inputs, targets (padding -1), and a state reset: every row starts a document."""
        chosen = self.rng.integers(0, len(self.windows), size=self.batch_size)
        return (*stream_rows(self.stream, self.windows[chosen]), True)

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "documents", "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]


def stream_windows(stream: TokenStream, block_size: int) -> np.ndarray:
    """The padded rows of ``stream``'s documents (N, 2); refuses a stream with no boundaries."""
    if stream.end_of_text is None:
        raise ZooError("dataset.rows=padded needs a tokenizer with an end-of-text token; "
                       "use dataset.rows=packed")
    return document_windows(stream.ids, stream.end_of_text, block_size)


def stream_rows(stream: TokenStream, windows: np.ndarray) -> Batch:
    """The padded batch of ``windows`` (from :func:`stream_windows`), padded with end of text
    (any id would do: padding's predictions are masked)."""
    return padded_rows(stream.ids, windows, int(stream.end_of_text or 0))


def batch_sampler(
    stream: TokenStream, train: TrainConfig, rank: int = 0, world_size: int = 1,
    rows: str = "packed",
) -> RandomWindows | ContiguousStreams | DocumentRows:
    """This rank's training batches: one padded document a row with ``rows="padded"``,
    contiguous streams with ``train.stateful``, else random windows."""
    if rows == "padded":
        if train.stateful:
            raise ZooError("train.stateful cannot carry state across padded documents; "
                           "use dataset.rows=packed or train.stateful=false")
        kind: type[RandomWindows | ContiguousStreams | DocumentRows] = DocumentRows
    else:
        kind = ContiguousStreams if train.stateful else RandomWindows
    return kind(stream, train.block_size, train.batch_size, train.seed, rank, world_size)


#: A validation split of at most this many batches (of the run's ``batch_size``) is evaluated
#: whole at every evaluation while training, so the loss shown is ``zoo eval``'s.
WHOLE_SPLIT_BATCHES = 256


class WindowBatches:
    """Batches of fixed windows, in order, the same at every pass (a reusable iterable).

    ``windows`` are the starts of packed windows (N,), or padded document rows
    (N, 2) from :func:`stream_windows` with ``padded``; ``len()`` counts this
    rank's batches: each rank of ``world_size`` takes every world_size-th one.
    """

    def __init__(self, stream: TokenStream, windows: np.ndarray, block_size: int,
                 batch_size: int, *, padded: bool, rank: int = 0, world_size: int = 1) -> None:
        self.stream, self.windows, self.padded = stream, windows, padded
        self.block_size, self.batch_size = block_size, batch_size
        self.total = -(-len(windows) // batch_size)  # batches over all ranks
        self.firsts = range(0, len(windows), batch_size)[rank::world_size]

    def __len__(self) -> int:
        return len(self.firsts)

    def __iter__(self) -> Iterator[Batch]:
        for first in self.firsts:
            chosen = self.windows[first : first + self.batch_size]
            if self.padded:
                yield stream_rows(self.stream, chosen)
            else:
                yield _windows(self.stream.ids, chosen, self.block_size)


def consecutive_batches(stream: TokenStream, block_size: int, batch_size: int,
                        rows: str = "packed", rank: int = 0, world_size: int = 1
                        ) -> WindowBatches:
    """Every token once (``zoo eval``'s batches): non-overlapping windows over the whole
    stream (a last partial window is left out), or every padded document row in order.

    The windows are found once, here; ``len()`` is the number of batches.
    """
    if rows == "padded":
        windows = stream_windows(stream, block_size)
    else:
        windows = np.arange((len(stream.ids) - 1) // block_size, dtype=np.int64) * block_size
    return WindowBatches(stream, windows, block_size, batch_size, padded=rows == "padded",
                         rank=rank, world_size=world_size)


def evaluation_batches(
    stream: TokenStream, block_size: int, batch_size: int, num_batches: int,
    rank: int = 0, world_size: int = 1, rows: str = "packed",
    whole_up_to: int = WHOLE_SPLIT_BATCHES,
) -> WindowBatches:
    """The validation batches of every evaluation while training; each rank takes every
    world_size-th batch.

    A split of at most ``max(whole_up_to, num_batches)`` batches is evaluated
    whole, in :func:`consecutive_batches`' windows (``zoo eval``'s); a larger one
    in ``num_batches`` batches of fixed windows (or padded document rows) spread
    evenly over it. The same rows at every evaluation, so successive numbers
    compare like with like.
    """
    whole = consecutive_batches(stream, block_size, batch_size, rows, rank, world_size)
    if whole.total <= max(whole_up_to, num_batches):
        return whole
    count = batch_size * num_batches
    if rows == "padded":  # more rows than count: the windows of a whole pass, spread
        windows = whole.windows[np.linspace(0, len(whole.windows) - 1, count).astype(int)]
    else:
        windows = np.linspace(0, len(stream.ids) - block_size - 1, count).astype(np.int64)
    return WindowBatches(stream, windows, block_size, batch_size, padded=rows == "padded",
                         rank=rank, world_size=world_size)
