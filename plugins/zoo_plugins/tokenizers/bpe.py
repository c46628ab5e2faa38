"""The ``bpe`` tokenizer: byte-level BPE trained with Hugging Face ``tokenizers``.

GPT-2's scheme: text is split with a regex into words and punctuation, each
piece is mapped to bytes, and merges learned on the training split join
frequent byte pairs. Every string round-trips exactly, since any byte is a
token of the initial alphabet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.config import require

_FILE = "tokenizer.json"


@dataclass
class BPEConfig:
    """Options of the ``bpe`` tokenizer."""

    vocab_size: int = 1024  # 256 byte tokens + merges; small corpora want small vocabularies
    min_frequency: int = 2  # a pair must occur this often to be merged

    def __post_init__(self) -> None:
        require(self, "vocab_size", at_least=256)  # the 256 byte tokens come first
        require(self, "min_frequency", at_least=1)


class BPETokenizer:
    """Byte-level BPE (``tokenizers.models.BPE`` with byte-level pre-tokenizer and decoder)."""

    special_tokens: dict[str, int] = {}

    def __init__(self, config: BPEConfig | None = None) -> None:
        self.config = config or BPEConfig()
        self._tokenizer: Any = None

    @staticmethod
    def _empty() -> Any:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers

        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        return tokenizer

    @property
    def vocab_size(self) -> int:
        return int(self._loaded().get_vocab_size())

    def _loaded(self) -> Any:
        if self._tokenizer is None:
            raise RuntimeError("the bpe tokenizer must be trained or loaded first")
        return self._tokenizer

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        from tokenizers import pre_tokenizers, trainers

        size = vocab_size or self.config.vocab_size
        if size < 256:
            from zoo.errors import ZooError

            raise ZooError(
                f"tokenizer.vocab_size must be at least 256 for byte-level BPE, got {size}"
            )
        trainer = trainers.BpeTrainer(
            vocab_size=size,
            min_frequency=self.config.min_frequency,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tokenizer = self._empty()
        tokenizer.train_from_iterator(_lines(texts), trainer=trainer)
        self._tokenizer = tokenizer

    def encode(self, text: str) -> list[int]:
        return list(self._loaded().encode(text).ids)

    def decode(self, ids: Sequence[int]) -> str:
        return str(self._loaded().decode([int(i) for i in ids]))

    def save(self, directory: Path) -> None:
        self._loaded().save(str(Path(directory) / _FILE))

    def load(self, directory: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(Path(directory) / _FILE))


def _lines(texts: Sequence[str]) -> Any:
    """Training text in line-sized pieces, newlines kept, so merges can include them."""
    for text in texts:
        yield from text.splitlines(keepends=True)
