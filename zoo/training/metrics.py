"""Language-modelling metrics derived from the mean token loss."""

from __future__ import annotations

import math


def perplexity(loss_nats: float) -> float:
    """exp(mean cross-entropy per token), capped to stay finite in JSON."""
    return math.exp(min(loss_nats, 700.0))


def bits_per_character(loss_nats: float, tokens_per_char: float) -> float:
    """Bits per character of text: comparable across tokenizers.

    ``loss_nats`` is per token; ``tokens_per_char`` is the split's token count
    over its character count, so a tokenizer with longer tokens pays for each
    token's extra characters.
    """
    return loss_nats / math.log(2) * tokens_per_char


def bits_per_byte(loss_nats: float, tokens_per_byte: float) -> float:
    """Bits per UTF-8 byte of text: like bits per character, for byte-oriented comparisons."""
    return loss_nats / math.log(2) * tokens_per_byte
