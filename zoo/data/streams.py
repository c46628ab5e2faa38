"""Token streams: a split's documents encoded as one flat array of ids, end of text between
documents. numpy only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zoo.data.documents import end_of_text_id
from zoo.errors import ZooError
from zoo.registry.contracts import Tokenizer


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
    def predicted(self) -> int:
        """Tokens a model predicts when it reads the stream: all but the first, which is only
        context (the leading end of text, or a first token with nothing before it)."""
        return max(0, len(self.ids) - 1)

    @property
    def tokens_per_char(self) -> float:
        return self.predicted / max(1, self.num_chars)

    @property
    def tokens_per_byte(self) -> float:
        return self.predicted / max(1, self.num_bytes or self.num_chars)


def token_dtype(vocab_size: int) -> type:
    """The smallest unsigned type for ids below ``vocab_size`` (uint16 covers 65,536)."""
    return np.uint16 if vocab_size <= 1 << 16 else np.uint32


def encode_documents(tokenizer: Tokenizer, documents: Sequence[str]) -> TokenStream:
    """Encode ``documents`` into one stream, ``EOT d1 EOT d2 ... EOT``
    (see :mod:`zoo.data.documents`).

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


def check_long_enough(streams: dict[str, TokenStream], block_size: int,
                      way_out: str = "use a smaller --block-size or a larger corpus") -> None:
    """Refuse a split too short for one packed window of ``block_size`` tokens, naming the
    split and ``way_out`` (padded rows need only one document)."""
    for split, stream in streams.items():
        if len(stream.ids) < block_size + 1:
            raise ZooError(
                f"the {split} split has {len(stream.ids)} tokens, fewer than block_size + 1 = "
                f"{block_size + 1}; {way_out}"
            )
