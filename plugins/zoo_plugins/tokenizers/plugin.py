"""Entry point ``builtin-tokenizers``: registers the built-in tokenizers."""

from __future__ import annotations

from typing import Any

from zoo import hookimpl
from zoo_plugins.tokenizers.char import CharConfig


@hookimpl
def zoo_register_tokenizers(register: Any) -> None:
    register(
        "char",
        summary="one token per character seen in training; unseen characters become <unk>",
        config=CharConfig,
        factory="zoo_plugins.tokenizers.char:CharTokenizer",
    )
