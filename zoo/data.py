"""A run's data: its tokenizer, the token stream of each split, and the batches drawn from them.

numpy only; the training step turns batches into tensors (:mod:`zoo.steps`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.config import RunConfig, TrainConfig
from zoo.contracts import Tokenizer
from zoo.documents import document_windows, end_of_text_id, padded_rows, rows_of
from zoo.errors import ZooError
from zoo.registry import Registry

Batch = tuple[np.ndarray, np.ndarray]  # inputs (B, T), targets (B, T), int64; padding -1


@dataclass
class TokenStream:
    """One split as a flat array of token ids, with the text it covers counted.

    ``ids`` may be a read-only memory map of the token cache, in the smallest
    integer type that holds the vocabulary; batches are converted to int64.
    """

    ids: np.ndarray  # (N,)
    num_chars: int
    num_bytes: int = 0  # UTF-8 bytes; 0 when unknown
    end_of_text: int | None = None  # the id between documents; None: one unbroken stream

    @property
    def tokens_per_char(self) -> float:
        return len(self.ids) / max(1, self.num_chars)

    @property
    def tokens_per_byte(self) -> float:
        return len(self.ids) / max(1, self.num_bytes or self.num_chars)


def token_dtype(vocab_size: int) -> type:
    """The smallest unsigned type for ids below ``vocab_size`` (uint16 covers 65,536)."""
    return np.uint16 if vocab_size <= 1 << 16 else np.uint32


def encode_documents(tokenizer: Tokenizer, documents: Sequence[str]) -> TokenStream:
    """Encode ``documents`` into one stream, ``EOT d1 EOT d2 ... EOT`` (see :mod:`zoo.documents`).

    A tokenizer without an end-of-text token gives the documents back to back.
    """
    dtype = token_dtype(tokenizer.vocab_size)
    end_of_text = end_of_text_id(tokenizer)
    boundary: list[np.ndarray] = [np.asarray([] if end_of_text is None else [end_of_text],
                                             dtype=dtype)]
    ids: list[np.ndarray] = list(boundary)
    for doc in documents:
        ids += [np.asarray(tokenizer.encode(doc), dtype=dtype), *boundary]
    return TokenStream(
        np.concatenate(ids),
        num_chars=sum(len(doc) for doc in documents),
        num_bytes=sum(len(doc.encode("utf-8")) for doc in documents),
        end_of_text=end_of_text,
    )


def training_data(
    registry: Registry, run_config: RunConfig, run_dir: Path, *, resume: bool,
    tokenizer: Tokenizer | None = None,
) -> tuple[Tokenizer, dict[str, TokenStream]]:
    """The run's tokenizer and every split as a token stream, each long enough for a window.

    A new run trains its tokenizer on the train split, unless it is given one
    (a fine-tuned run: its source's); a resumed run loads its own from ``run_dir``.
    The streams come from the token cache, so a corpus is encoded once per
    tokenizer.
    """
    from zoo import runs
    from zoo.component_factory import build_dataset, build_tokenizer
    from zoo.token_cache import cached_splits  # it imports this module

    dataset = build_dataset(registry, run_config.dataset)
    if resume:
        tokenizer = runs.load_tokenizer(registry, run_dir, run_config)
    elif tokenizer is None:
        tokenizer = build_tokenizer(registry, run_config.tokenizer)
        tokenizer.train(dataset.texts("train"))
    streams = cached_splits(dataset, tokenizer)
    if rows_of(run_config.dataset.config) == "packed":
        check_long_enough(streams, run_config.train.block_size)
    return tokenizer, streams


def check_long_enough(streams: dict[str, TokenStream], block_size: int) -> None:
    """Refuse a corpus too short for one packed training window, naming the split and the
    way out (padded rows need only one document)."""
    for split, stream in streams.items():
        if len(stream.ids) < block_size + 1:
            raise ZooError(
                f"the {split} split has {len(stream.ids)} tokens, fewer than block_size + 1 = "
                f"{block_size + 1}; use a smaller --block-size or a larger corpus"
            )


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
    :func:`zoo.documents.document_windows`), from a seeded generator as in
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


def evaluation_batches(
    stream: TokenStream, block_size: int, batch_size: int, num_batches: int,
    rank: int = 0, world_size: int = 1, rows: str = "packed",
) -> Iterator[Batch]:
    """Fixed windows (or padded document rows) spread evenly over ``stream``; each rank
    takes every world_size-th batch.

    The same rows at every evaluation, so successive numbers compare like with like.
    """
    count = batch_size * num_batches
    if rows == "padded":
        windows = stream_windows(stream, block_size)
        chosen = windows[np.linspace(0, len(windows) - 1, min(count, len(windows))).astype(int)]
    else:
        starts = np.linspace(0, len(stream.ids) - block_size - 1, count).astype(np.int64)
    for index, first in enumerate(range(0, count, batch_size)):
        if index % world_size != rank:
            continue
        if rows != "padded":
            yield _windows(stream.ids, starts[first : first + batch_size], block_size)
        elif first < len(chosen):
            yield stream_rows(stream, chosen[first : first + batch_size])


def consecutive_batches(stream: TokenStream, block_size: int, batch_size: int,
                        rows: str = "packed") -> Iterator[Batch]:
    """Every token once: non-overlapping windows over the whole stream (a last partial
    window is left out), or every padded document row in order."""
    if rows == "padded":
        windows = stream_windows(stream, block_size)
        for first in range(0, len(windows), batch_size):
            yield stream_rows(stream, windows[first : first + batch_size])
        return
    usable = (len(stream.ids) - 1) // block_size
    starts = np.arange(usable, dtype=np.int64) * block_size
    for first in range(0, usable, batch_size):
        yield _windows(stream.ids, starts[first : first + batch_size], block_size)
