"""Choosing the next token from logits, and streaming decoded text. numpy only, no torch.

Both the PyTorch sampler and the onnxruntime sampler use these, so that the
same settings and seed give the same choices on either path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.errors import ZooError


@dataclass(frozen=True)
class SamplingSettings:
    """How the next token is drawn from the model's distribution."""

    temperature: float = 0.8  # 0 is greedy (argmax); higher is more random
    top_k: int | None = None  # keep only the k most likely tokens
    top_p: float | None = None  # keep the smallest set of tokens whose probability reaches p

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top-k must be >= 1, got {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"top-p must be in (0, 1], got {self.top_p}")


def choose_next(
    logits: np.ndarray, settings: SamplingSettings, rng: np.random.Generator
) -> np.ndarray:
    """Pick one token per row of ``logits`` (B, V); returns int64 ids (B,)."""
    logits = np.asarray(logits, dtype=np.float64)
    if settings.temperature == 0:
        return logits.argmax(axis=-1).astype(np.int64)
    scores = logits / settings.temperature  # (B, V)
    if settings.top_k is not None and settings.top_k < scores.shape[-1]:
        kth = np.partition(scores, -settings.top_k, axis=-1)[:, -settings.top_k, None]
        scores = np.where(scores < kth, -np.inf, scores)
    probs = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    if settings.top_p is not None and settings.top_p < 1:
        order = np.argsort(-probs, axis=-1, kind="stable")  # (B, V) most likely first
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        # keep a token if the mass before it is still below p (the first is always kept)
        keep_sorted = np.cumsum(sorted_probs, axis=-1) - sorted_probs < settings.top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(probs, axis=-1)  # (B, V)
    # The first index whose running total exceeds the draw: always a token of nonzero
    # probability, even for a draw of exactly 0 or a total that rounds below 1.
    threshold = rng.random((probs.shape[0], 1)) * cumulative[:, -1:]  # (B, 1)
    return (cumulative <= threshold).sum(axis=-1).astype(np.int64)


def prompt_ids(tokenizer: Any, prompt: str, start_text: str = "\n") -> list[int]:
    """The prompt's tokens; an empty prompt starts from ``start_text`` (nanoGPT: a newline).

    A prompt the tokenizer cannot represent (a character tokenizer meeting a
    character it never saw) is refused, naming the characters, rather than
    continued as something else.
    """
    text = prompt if prompt else start_text
    try:
        ids = list(tokenizer.encode(text))
    except ValueError as error:
        raise ZooError(f"the prompt cannot be encoded: {error}") from None
    if not ids:
        raise ZooError(f"the prompt {prompt!r} encodes to no tokens; give a longer --prompt")
    if tokenizer.decode(ids) != text:
        unknown = sorted({c for c in text if tokenizer.decode(tokenizer.encode(c)) != c})
        shown = ", ".join(repr(c) for c in unknown) or "some of its text"
        raise ZooError(f"the prompt has characters this run's tokenizer cannot represent "
                       f"({shown}); leave them out")
    return ids


class IncrementalDecoder:
    """Turns a growing list of token ids into newly completed text, for streaming.

    Decoding only a short window before the new tokens keeps each step cheap,
    and comparing against that window's own decoding keeps the spaces and
    multi-byte characters that depend on neighbouring tokens right.
    """

    def __init__(self, decode: Callable[[Sequence[int]], str], context: int = 8) -> None:
        self._decode = decode
        self._context = context
        self._ids: list[int] = []
        self._emitted = 0  # ids[:_emitted] have been turned into text already

    def push(self, ids: Sequence[int]) -> str:
        """Add tokens; return the text they complete (may be empty while a character is partial)."""
        self._ids.extend(int(i) for i in ids)
        return self._take(final=False)

    def flush(self) -> str:
        """Return whatever text is still held back."""
        return self._take(final=True)

    def _take(self, final: bool) -> str:
        start = max(0, self._emitted - self._context)
        before = self._decode(self._ids[start : self._emitted])
        text = self._decode(self._ids[start:])
        if not text.startswith(before) or (text.endswith("\ufffd") and not final):
            return ""
        self._emitted = len(self._ids)
        return text[len(before) :]


def continue_sequences(
    logits: np.ndarray,
    step: Callable[[np.ndarray], np.ndarray],
    *,
    decode: Callable[[Sequence[int]], str],
    max_new_tokens: int,
    settings: SamplingSettings,
    rng: np.random.Generator,
    on_text: Callable[[str], None] | None = None,
) -> list[str]:
    """The sampling loop shared by the PyTorch and onnxruntime samplers.

    ``logits`` (B, V) are the model's prediction after the prompt; ``step``
    feeds one chosen token per row (B,) with the carried state and returns the
    next logits (B, V). ``on_text`` streams text as it completes (one row only).
    Returns each row's generated text.
    """
    generated: list[list[int]] = [[] for _ in range(logits.shape[0])]
    streamer = IncrementalDecoder(decode) if on_text and len(generated) == 1 else None
    for position in range(max_new_tokens):
        next_ids = choose_next(logits, settings, rng)  # (B,)
        for row, token in zip(generated, next_ids.tolist(), strict=True):
            row.append(token)
        if streamer is not None and on_text is not None:
            on_text(streamer.push(next_ids.tolist()))
        if position + 1 < max_new_tokens:  # the last choice needs no step after it
            logits = step(next_ids)
    if streamer is not None and on_text is not None:
        on_text(streamer.flush())
    return [decode(row) for row in generated]
