"""The special tokens the built-in tokenizers share: end of text and unknown.

A tokenizer trained by zoo names its end-of-text token :data:`END_OF_TEXT`.
One read from an existing file (``tokenizer.path``) keeps the file's own: the
first of :data:`END_OF_TEXT_PREFERENCE` among the file's special tokens.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The end-of-text token of every tokenizer zoo trains (GPT-2's spelling).
END_OF_TEXT = "<|endoftext|>"

#: The unknown token of the tokenizers zoo trains that have one (char, word).
UNKNOWN = "<unk>"

#: What an unknown token decodes to in char and word: U+FFFD, the replacement character.
UNKNOWN_TEXT = "\ufffd"

#: End-of-text tokens of well-known tokenizers, most preferred first: zoo and GPT-2,
#: Llama 3 (base), Llama 2 / T5 / RoBERTa / Mistral, Gemma, other spellings, BERT.
END_OF_TEXT_PREFERENCE = (
    END_OF_TEXT,
    "<|end_of_text|>",
    "</s>",
    "<eos>",
    "<|eos|>",
    "[EOS]",
    "<EOS>",
    "[SEP]",
)


def choose_end_of_text(special_tokens: Iterable[str]) -> str | None:
    """The first of :data:`END_OF_TEXT_PREFERENCE` among ``special_tokens``, or None."""
    present = set(special_tokens)
    return next((name for name in END_OF_TEXT_PREFERENCE if name in present), None)
