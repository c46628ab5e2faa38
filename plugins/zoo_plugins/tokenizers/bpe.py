"""The ``bpe`` tokenizer: byte-level BPE trained with Hugging Face ``tokenizers``, or a file.

GPT-2's scheme: text is split with a regex into words and punctuation, each
piece is mapped to bytes, and merges learned on the training split join
frequent byte pairs. Every string round-trips exactly, since any byte is a
token of the initial alphabet. Ids: ``<|endoftext|>`` is 0, the 256 byte
tokens follow, then the merges. ``encode`` never yields the end-of-text id,
even for the literal text ``<|endoftext|>``, and ``decode`` drops it (and any
other special token).

With ``tokenizer.path``, an existing Hugging Face ``tokenizer.json`` is used
as it is instead of training: its vocabulary, its normalizer (which may
lowercase or fold whitespace, so text need not round-trip) and its own
end-of-text token, the first of
:data:`~zoo_plugins.tokenizers.special.END_OF_TEXT_PREFERENCE` among its
special tokens; a file with none of them has ``end_of_text`` None, so the run
has no document boundaries. Its post-processor's extra tokens (BERT's
``[CLS]``/``[SEP]``) are not added by ``encode``. ``save`` copies the
tokenizer into the run, which then no longer needs the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.plugin import require
from zoo_plugins.tokenizers.special import END_OF_TEXT, choose_end_of_text

_FILE = "tokenizer.json"
_MIN_SIZE = 257  # the 256 byte tokens and <|endoftext|>


@dataclass
class BPEConfig:
    """Options of the ``bpe`` tokenizer."""

    vocab_size: int = 1024  # <|endoftext|> + 256 byte tokens + merges; ignored with path
    min_frequency: int = 2  # a pair must occur this often to be merged
    path: str | None = None  # an existing Hugging Face tokenizer.json to use instead of training

    def __post_init__(self) -> None:
        require(self, "vocab_size", at_least=_MIN_SIZE)  # the byte tokens and end of text
        require(self, "min_frequency", at_least=1)


class BPETokenizer:
    """Byte-level BPE (``tokenizers.models.BPE`` with byte-level pre-tokenizer and decoder)."""

    def __init__(self, config: BPEConfig | None = None) -> None:
        self.config = config or BPEConfig()
        self._tokenizer: Any = None
        self.special_tokens: dict[str, int] = {}  # each special token's text and id
        self.end_of_text: str | None = None  # its end-of-text token, a key of special_tokens
        self.unknown: str | None = None  # its unknown token (never, for byte-level BPE)

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

    def _use(self, tokenizer: Any) -> None:
        """Adopt ``tokenizer`` and find its special, end-of-text and unknown tokens."""
        tokenizer.encode_special_tokens = True  # text that spells a special token stays text
        special = {token.content: int(i)
                   for i, token in tokenizer.get_added_tokens_decoder().items() if token.special}
        unknown = getattr(tokenizer.model, "unk_token", None)
        if unknown is not None and tokenizer.token_to_id(unknown) is None:
            unknown = None  # named by the model but absent from its vocabulary
        if unknown is not None:
            special.setdefault(unknown, int(tokenizer.token_to_id(unknown)))
        self._tokenizer = tokenizer
        self.special_tokens = special
        self.end_of_text = choose_end_of_text(special)
        self.unknown = unknown

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        """Learn merges from ``texts``, or, with ``tokenizer.path``, read that file instead."""
        if self.config.path is not None:
            self._use(read_tokenizer_file(self.config.path))
            return
        from tokenizers import pre_tokenizers, trainers

        size = vocab_size or self.config.vocab_size
        if size < _MIN_SIZE:
            from zoo.plugin import ZooError

            raise ZooError(f"tokenizer.vocab_size must be at least {_MIN_SIZE} for byte-level "
                           f"BPE (256 bytes and {END_OF_TEXT}), got {size}")
        trainer = trainers.BpeTrainer(
            vocab_size=size,
            min_frequency=self.config.min_frequency,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            special_tokens=[END_OF_TEXT],
            show_progress=False,
        )
        tokenizer = self._empty()
        tokenizer.train_from_iterator(_lines(texts), trainer=trainer)
        self._use(tokenizer)

    def encode(self, text: str) -> list[int]:
        return list(self._loaded().encode(text, add_special_tokens=False).ids)

    def decode(self, ids: Sequence[int]) -> str:
        return str(self._loaded().decode([int(i) for i in ids]))

    def portable(self) -> dict[str, object]:
        """Scheme ``huggingface``: the saved ``tokenizer.json``, read by any tokenizers library."""
        return {"scheme": "huggingface", "file": _FILE, "newline_id": None,
                "end_of_text_id": self.special_tokens.get(self.end_of_text or ""),
                "special_ids": sorted(set(self.special_tokens.values()))}

    def save(self, directory: Path) -> None:
        self._loaded().save(str(Path(directory) / _FILE))

    def load(self, directory: Path) -> None:
        from tokenizers import Tokenizer

        self._use(Tokenizer.from_file(str(Path(directory) / _FILE)))


def read_tokenizer_file(path: str) -> Any:
    """The ``tokenizers.Tokenizer`` in ``path``; a missing or unreadable file is one ZooError."""
    from tokenizers import Tokenizer

    from zoo.plugin import reading

    with reading(path, "tokenizer.path", "give it a Hugging Face tokenizer.json (as "
                 "Tokenizer.save writes it), or unset tokenizer.path to train a bpe tokenizer"):
        return Tokenizer.from_str(Path(path).expanduser().read_text("utf-8"))


def _lines(texts: Sequence[str]) -> Any:
    """Training text in line-sized pieces, newlines kept, so merges can include them."""
    for text in texts:
        yield from text.splitlines(keepends=True)
