"""The contracts a plugin's components meet, as typing protocols.

These are documentation the type checker can read; the registry does not
check them at registration time, ``zoo.testing`` does (issue 6), and every
built-in is run through them by the test suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: The splits every dataset has.
SPLITS = ("train", "val")
#: The splits a dataset may have; ``texts(split)`` raises ``KeyError`` for one it has not.
OPTIONAL_SPLITS = ("test",)


@runtime_checkable
class Tokenizer(Protocol):
    """Turns text into token ids and back. Never imports torch.

    Optional attributes, read with ``getattr(tokenizer, name, None)``:
    ``special_tokens: dict[str, int]`` (a special token's text -> its id);
    ``end_of_text: str | None``, the key of ``special_tokens`` that the core
    puts between documents and stops sampling at (``encode`` need never yield
    it, ``decode`` of it gives ``""``); ``unknown: str | None``, the key of
    ``special_tokens`` that text outside the vocabulary becomes. None: no such token.

    Optional method ``portable() -> dict``: how a client outside Python
    encodes and decodes, as one of the schemes an export's ``manifest.json``
    documents (``char``, ``byte``, ``word``, ``huggingface``,
    ``sentencepiece``). An export carries it under ``tokenizer.portable``;
    the web export needs it.
    """

    @property
    def vocab_size(self) -> int: ...

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        """Learn the vocabulary from the training documents."""

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def save(self, directory: Path) -> None:
        """Write everything needed to ``load`` into an existing directory."""

    def load(self, directory: Path) -> None:
        """Restore the state written by ``save``."""


@runtime_checkable
class Dataset(Protocol):
    """A corpus with a training and a validation split, and maybe a test split. Never imports
    torch.

    A dataset says whether it has a test split by its answer to
    ``texts("test")``: the test documents, or ``KeyError`` when it has none
    (then ``zoo eval --split test`` says so in one line). It may also give
    ``licence``, one line naming the licence of its text, which the model card of
    a model trained on it quotes (``zoo plugin new --kind pretrained``).
    """

    def texts(self, split: str) -> list[str]:
        """The documents of ``split`` (one of :data:`SPLITS`, or of :data:`OPTIONAL_SPLITS`);
        ``KeyError`` for a split the dataset does not have."""


class Architecture(Protocol):
    """A ``torch.nn.Module`` language model that can be stepped one token at a time.

    ``forward(idx[B,T], state=None) -> (logits[B,T,V], state)``: ``state`` is
    what ``init_state`` returns (a tuple of tensors, empty when the model keeps
    none); ``None`` means the initial state.
    """

    def forward(self, idx: Any, state: Any = None) -> tuple[Any, Any]: ...

    def init_state(self, batch_size: int) -> tuple[Any, ...]: ...
