"""The ``word`` tokenizer: the most frequent words, punctuation marks and spaces of a corpus.

Text is cut by the regex :data:`PIECES` into pieces, each one of:

- a word: a run of letters, digits and underscores (``\\w+``, Unicode-aware);
- a punctuation mark or other symbol: one character that is neither a word
  character nor whitespace (``"don't"`` is ``don``, ``'``, ``t``);
- a newline: each ``\\n`` on its own;
- a run of other whitespace (spaces, tabs, ``\\r``): one piece.

The pieces put back together are the text, so whitespace is kept exactly.
The vocabulary is ``<unk>`` (id 0), ``<|endoftext|>`` (id 1), then the
``tokenizer.vocab_size`` most frequent pieces of the training text, most
frequent first (ties in code-point order). A piece outside the vocabulary is
``<unk>``, which decodes to U+FFFD (``�``); the end-of-text id decodes to
``""``. So ``decode(encode(text)) == text`` exactly when every piece of
``text`` is in the vocabulary; otherwise each unknown word, mark or
whitespace run comes back as one ``�`` and the rest is unchanged. The text
``<|endoftext|>`` or ``<unk>`` inside a document is ordinary pieces (``<``,
``|``, ``endoftext`` ...), never the special ids.

Built on Hugging Face ``tokenizers`` (a ``WordLevel`` model, a ``Split``
pre-tokenizer with :data:`PIECES`, ``WordLevelTrainer``); the saved
``tokenizer.json`` is a standard one that any ``tokenizers`` client reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.plugin import require
from zoo_plugins.tokenizers.special import END_OF_TEXT, UNKNOWN, UNKNOWN_TEXT

#: What one piece of text is: a word, one mark, one newline, or a run of other whitespace.
PIECES = r"\w+|[^\w\s]|\n|[^\S\n]+"
#: :data:`PIECES` spelled with Unicode classes, for clients outside Python (a JavaScript
#: ``RegExp`` with the ``u`` flag, whose ``\w`` would match ASCII letters only).
PORTABLE_PIECES = r"[\p{L}\p{M}\p{N}_]+|[^\p{L}\p{M}\p{N}_\s]|\n|[^\S\n]+"

_FILE = "tokenizer.json"
_SPECIAL = [UNKNOWN, END_OF_TEXT]  # ids 0 and 1


@dataclass
class WordConfig:
    """Options of the ``word`` tokenizer."""

    vocab_size: int = 10_000  # the most frequent pieces kept; <unk> and <|endoftext|> come on top

    def __post_init__(self) -> None:
        require(self, "vocab_size", at_least=1)


class WordTokenizer:
    """A ``tokenizers.models.WordLevel`` over words, marks and whitespace; the rest is ``<unk>``."""

    unknown = UNKNOWN  # the unknown token's text, a key of special_tokens
    end_of_text = END_OF_TEXT  # the end-of-text token's text, a key of special_tokens

    def __init__(self, config: WordConfig | None = None) -> None:
        self.config = config or WordConfig()
        self._tokenizer: Any = None
        self._texts: list[str] = []  # decode's text of each id

    @property
    def vocab_size(self) -> int:
        return len(self._loaded_texts())

    @property
    def special_tokens(self) -> dict[str, int]:
        return {UNKNOWN: 0, END_OF_TEXT: 1}

    def _loaded_texts(self) -> list[str]:
        if self._tokenizer is None:
            raise RuntimeError("the word tokenizer must be trained or loaded first")
        return self._texts

    def _use(self, tokenizer: Any) -> None:
        """Adopt ``tokenizer``, checking that its special tokens have the ids above."""
        for expected, name in enumerate(_SPECIAL):
            if tokenizer.token_to_id(name) != expected:
                raise ValueError(f"{name} is not id {expected} of this word vocabulary")
        tokenizer.encode_special_tokens = True  # "<unk>" typed in a text is text
        texts = [""] * tokenizer.get_vocab_size()
        for piece, index in tokenizer.get_vocab().items():
            texts[index] = piece
        texts[0], texts[1] = UNKNOWN_TEXT, ""
        self._tokenizer, self._texts = tokenizer, texts

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        """Count the pieces of ``texts`` and keep the ``vocab_size`` most frequent."""
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

        tokenizer = Tokenizer(models.WordLevel(unk_token=UNKNOWN))
        tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(PIECES), behavior="isolated")
        tokenizer.decoder = decoders.Fuse()  # pieces joined as they are
        trainer = trainers.WordLevelTrainer(
            vocab_size=(vocab_size or self.config.vocab_size) + len(_SPECIAL),
            special_tokens=_SPECIAL,
            show_progress=False,
        )
        tokenizer.train_from_iterator((line for text in texts for line in _lines(text)),
                                      trainer=trainer)
        self._use(tokenizer)

    def encode(self, text: str) -> list[int]:
        self._loaded_texts()
        encoded = self._tokenizer.encode_batch(_lines(text), add_special_tokens=False)
        return [i for line in encoded for i in line.ids]

    def decode(self, ids: Sequence[int]) -> str:
        texts = self._loaded_texts()
        size = len(texts)
        return "".join(texts[i] if 0 <= i < size else UNKNOWN_TEXT for i in map(int, ids))

    def portable(self) -> dict[str, object]:
        """Scheme ``word``: :data:`PORTABLE_PIECES` cuts the text, ``pieces`` gives the ids."""
        return {"scheme": "word", "file": _FILE, "pattern": PORTABLE_PIECES,
                "pieces": self._loaded_texts(),
                "unknown_id": 0, "end_of_text_id": 1, "special_ids": [0, 1]}

    def save(self, directory: Path) -> None:
        self._loaded_texts()
        self._tokenizer.save(str(Path(directory) / _FILE))

    def load(self, directory: Path) -> None:
        from tokenizers import Tokenizer

        self._use(Tokenizer.from_file(str(Path(directory) / _FILE)))


def _lines(text: str) -> list[str]:
    """``text`` cut after each newline: no piece spans one, and lines tokenize in parallel."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]
