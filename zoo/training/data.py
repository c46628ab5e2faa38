"""A run's training data: its tokenizer and the token stream of each split, from the cache.

It sits in ``training/`` because it reads the run directory (a resumed run's
tokenizer); the streams and batches themselves are :mod:`zoo.data`'s.
"""

from __future__ import annotations

from pathlib import Path

from zoo.config.run import RunConfig
from zoo.data.documents import rows_of
from zoo.data.streams import TokenStream, check_long_enough
from zoo.data.token_cache import cached_splits
from zoo.registry.contracts import Tokenizer
from zoo.registry.factory import build_dataset, build_tokenizer
from zoo.registry.host import Registry
from zoo.runs.run_directory import load_tokenizer


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
    dataset = build_dataset(registry, run_config.dataset)
    if resume:
        tokenizer = load_tokenizer(registry, run_dir, run_config)
    elif tokenizer is None:
        tokenizer = build_tokenizer(registry, run_config.tokenizer)
        tokenizer.train(dataset.texts("train"))
    streams = cached_splits(dataset, tokenizer)
    if rows_of(run_config.dataset.config) == "packed":
        check_long_enough(streams, run_config.train.block_size)
    return tokenizer, streams
