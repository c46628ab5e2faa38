"""Entry point ``builtin-tokenizers``: registers the built-in tokenizers."""

from __future__ import annotations

from zoo import Register, hookimpl
from zoo_plugins.tokenizers.bpe import BPEConfig
from zoo_plugins.tokenizers.byte import ByteConfig
from zoo_plugins.tokenizers.char import CharConfig
from zoo_plugins.tokenizers.sentencepiece import SentencePieceConfig
from zoo_plugins.tokenizers.word import WordConfig

_MODULE = "zoo_plugins.tokenizers"


@hookimpl
def zoo_register_tokenizers(register: Register) -> None:
    register(
        "char",
        summary="one token per character seen in training; unseen characters become <unk>",
        config=CharConfig,
        factory=f"{_MODULE}.char:CharTokenizer",
    )
    register(
        "byte",
        summary="the 256 byte values of UTF-8; nothing is ever unknown",
        config=ByteConfig,
        factory=f"{_MODULE}.byte:ByteTokenizer",
    )
    register(
        "word",
        summary="the most frequent words, punctuation marks and spaces; the rest becomes <unk>",
        config=WordConfig,
        factory=f"{_MODULE}.word:WordTokenizer",
    )
    register(
        "bpe",
        summary="byte-level BPE trained on the training split (Hugging Face tokenizers)",
        config=BPEConfig,
        factory=f"{_MODULE}.bpe:BPETokenizer",
    )
    register(
        "sentencepiece",
        summary="SentencePiece unigram or bpe with byte fallback, trained in-process",
        config=SentencePieceConfig,
        factory=f"{_MODULE}.sentencepiece:SentencePieceTokenizer",
    )
