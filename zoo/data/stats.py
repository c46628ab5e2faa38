"""A corpus seen through a tokenizer: what ``zoo data stats`` reports. numpy only.

The tokenizer is trained on the train split, as a run would train it, and
every split is encoded through the token cache (so a later run on the same
corpus and tokenizer reuses the work).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from zoo.config.run import choose_component
from zoo.data.token_cache import cached_splits
from zoo.registry.contracts import SPLITS
from zoo.registry.factory import build_dataset, build_tokenizer
from zoo.registry.host import Registry


@dataclass
class SplitStats:
    """One split's size, in documents, characters and tokens."""

    documents: int
    characters: int
    tokens: int  # the end-of-text tokens around documents included
    tokens_per_char: float


@dataclass
class CorpusStats:
    """A dataset's splits and its train split's token frequencies under one tokenizer."""

    dataset: str
    tokenizer: str
    vocab_size: int
    splits: dict[str, SplitStats]
    used: int  # distinct tokens in the train split
    frequencies: list[tuple[str, int]]  # (token as text, count) in the train split, commonest first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def token_label(tokenizer: Any, token: int) -> str:
    """A token as readable text: special tokens by name, whitespace escaped (``\\n``)."""
    names = {int(i): name for name, i in dict(getattr(tokenizer, "special_tokens", {}) or {})
             .items()}
    if token in names:
        return names[token]
    return repr(tokenizer.decode([token]))[1:-1] or f"<{token}>"


def corpus_stats(registry: Registry, dataset: str, tokenizer: str,
                 values: Mapping[str, Mapping[str, Any]] | None = None) -> CorpusStats:
    """The stats of ``dataset`` under ``tokenizer``, each configured by ``values``
    (``{"dataset": {...}, "tokenizer": {...}}``, as ``--set`` gives them)."""
    values = values or {}
    data = build_dataset(registry, choose_component(
        registry, "dataset", dataset, dict(values.get("dataset", {})), section="dataset"))
    token_maker = build_tokenizer(registry, choose_component(
        registry, "tokenizer", tokenizer, dict(values.get("tokenizer", {})), section="tokenizer"))
    token_maker.train(data.texts("train"))
    streams = cached_splits(data, token_maker)
    splits = {}
    for split in SPLITS:
        stream = streams[split]
        splits[split] = SplitStats(len(data.texts(split)), stream.num_chars, len(stream.ids),
                                   round(stream.tokens_per_char, 4))
    counts = np.bincount(np.asarray(streams["train"].ids, dtype=np.int64),
                         minlength=token_maker.vocab_size)  # (V,)
    order = np.argsort(-counts, kind="stable")
    frequencies = [(token_label(token_maker, int(i)), int(counts[i])) for i in order
                   if counts[i] > 0]
    return CorpusStats(dataset, tokenizer, token_maker.vocab_size, splits,
                       int(np.count_nonzero(counts)), frequencies)
