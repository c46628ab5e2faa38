"""Split a corpus into its training, validation and test documents: by a fraction, after a
seeded shuffle, or from files of their own; and the options document datasets share."""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.plugin import InvalidValue, ZooError


def require_choice(config: Any, key: str, choices: tuple[str, ...]) -> None:
    """Raise :class:`InvalidValue` unless ``config.key`` is one of ``choices``.

    Call it from a config dataclass's ``__post_init__``, like ``zoo.plugin.require``.
    """
    value = getattr(config, key)
    if value not in choices:
        raise InvalidValue(key, value, f"one of {', '.join(choices)}")


def split_text(text: str, val_fraction: float) -> dict[str, str]:
    """First ``1 - val_fraction`` of the characters train, the rest validate (nanoGPT's split).

    The cut is made exactly at ``int(len(text) * (1 - val_fraction))`` so that a
    corpus split here matches the standard split of the same file elsewhere.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    cut = int(len(text) * (1.0 - val_fraction))
    return {"train": text[:cut], "val": text[cut:]}


def split_documents(documents: list[str], val_fraction: float, source: str,
                    way_out: str = "give more data") -> dict[str, list[str]]:
    """First ``1 - val_fraction`` of the documents train, the rest validate; none is cut.

    The cut is at ``int(len(documents) * (1 - val_fraction))``, moved where
    needed so that each split holds at least one document. ``source`` says
    where the documents came from and ``way_out`` what to do, for the error
    when there are fewer than two.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    if len(documents) < 2:
        raise ZooError(f"{source} gives {len(documents)} document(s); training and validation "
                       f"need at least 2; {way_out}")
    cut = min(max(int(len(documents) * (1.0 - val_fraction)), 1), len(documents) - 1)
    return {"train": documents[:cut], "val": documents[cut:]}


def shuffled(documents: list[str], seed: int) -> list[str]:
    """``documents`` in an order fixed by ``seed`` and their number alone.

    The order is a permutation drawn from numpy's legacy ``RandomState``,
    whose stream numpy keeps the same across versions (NEP 19), so the same
    seed and file give the same order on every machine and version (which
    ``random.shuffle`` does not promise), and another seed another order.
    """
    order = np.random.RandomState(seed % 2**32).permutation(len(documents))  # any int seeds it
    return [documents[position] for position in order.tolist()]


def require_documents(documents: list[str], source: str, way_out: str) -> list[str]:
    """``documents``, or a ZooError saying that ``source`` gives none and ``way_out``.

    For a split read from files of its own (``dataset.val_path``,
    ``dataset.test_path``): an empty split has nothing to evaluate on.
    """
    if not any(documents):
        raise ZooError(f"{source} gives no text; {way_out}")
    return documents


class FileSplits:
    """The splits of a dataset read from the user's files, each read when first asked for.

    ``dataset.path`` gives the training split, and the validation split too
    unless ``dataset.val_path`` names files of its own; ``dataset.test_path``
    names the test split's files, and without them there is no test split
    (``texts("test")`` raises ``KeyError``, as the dataset contract asks).
    Each split reads only the files it needs, so ``zoo eval --split test`` on
    another machine needs only the test files there. A subclass reads its
    kind of file in :meth:`_from_path` and :meth:`_held_out`.
    """

    def __init__(self, config: Any) -> None:
        self.config = config
        self._read: dict[str, list[str]] = {}
        self._path_splits: dict[str, list[str]] | None = None

    def texts(self, split: str) -> list[str]:
        """The documents of ``split``; ``KeyError`` for a split the files do not give."""
        if split not in self._read:
            self._read[split] = self._split(split)
        return list(self._read[split])

    def _split(self, split: str) -> list[str]:
        files = {"val": self.config.val_path, "test": self.config.test_path}.get(split)
        if files:
            return self._held_out(f"{split}_path")
        if split == "test":
            raise KeyError(split)  # no test files given: no test split
        if self._path_splits is None:
            self._path_splits = self._from_path()
        return self._path_splits[split]

    def _from_path(self) -> dict[str, list[str]]:
        """``train`` (all of ``dataset.path`` when validation files are given) and ``val``."""
        raise NotImplementedError

    def _held_out(self, key: str) -> list[str]:
        """The documents of the files ``dataset.KEY`` names (``val_path``, ``test_path``)."""
        raise NotImplementedError
