"""Token streams and training batches. numpy only; the trainer turns batches into tensors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zoo.contracts import SPLITS, Dataset, Tokenizer
from zoo.errors import ZooError


@dataclass
class TokenStream:
    """One split as a flat array of token ids, with the character count it covers."""

    ids: np.ndarray  # (N,) int64
    num_chars: int

    @property
    def tokens_per_char(self) -> float:
        return len(self.ids) / max(1, self.num_chars)


def encode_documents(tokenizer: Tokenizer, documents: Sequence[str]) -> TokenStream:
    """Encode and concatenate ``documents`` into one stream."""
    ids = [np.asarray(tokenizer.encode(doc), dtype=np.int64) for doc in documents]
    flat = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    return TokenStream(flat, sum(len(doc) for doc in documents))


def load_splits(dataset: Dataset, tokenizer: Tokenizer) -> dict[str, TokenStream]:
    """Every split of ``dataset`` encoded with ``tokenizer``."""
    return {split: encode_documents(tokenizer, dataset.texts(split)) for split in SPLITS}


def check_long_enough(streams: dict[str, TokenStream], block_size: int) -> None:
    """Refuse a corpus too short for one training window, naming the split and the way out."""
    for split, stream in streams.items():
        if len(stream.ids) < block_size + 1:
            raise ZooError(
                f"the {split} split has {len(stream.ids)} tokens, fewer than block_size + 1 = "
                f"{block_size + 1}; use a smaller --block-size or a larger corpus"
            )


class BatchSampler:
    """Draws (input, target) windows from the token streams.

    Training batches are random windows from a seeded numpy generator, whose
    state is JSON-serializable for resuming. Evaluation batches are fixed,
    evenly spaced windows, so successive evaluations compare like with like.
    """

    def __init__(self, streams: dict[str, TokenStream], block_size: int, seed: int) -> None:
        check_long_enough(streams, block_size)
        self.streams = streams
        self.block_size = block_size
        self.rng = np.random.default_rng(seed)

    def _windows(self, ids: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        offsets = starts[:, None] + np.arange(self.block_size + 1)  # (B, T+1)
        windows = ids[offsets]
        return windows[:, :-1], windows[:, 1:]  # (B, T) inputs, (B, T) targets

    def train_batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        ids = self.streams["train"].ids
        starts = self.rng.integers(0, len(ids) - self.block_size, size=batch_size)
        return self._windows(ids, starts)

    def eval_batches(self, split: str, batch_size: int, num_batches: int):
        """Yield ``num_batches`` fixed batches spread evenly over ``split``."""
        ids = self.streams[split].ids
        count = batch_size * num_batches
        starts = np.linspace(0, len(ids) - self.block_size - 1, count).astype(np.int64)
        for first in range(0, count, batch_size):
            yield self._windows(ids, starts[first : first + batch_size])
