"""Choosing the next token from logits, and streaming decoded text. numpy only, no torch.

Both the PyTorch sampler and the onnxruntime sampler use these, so that the
same settings and seed give the same choices on either path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.documents import end_of_text_id
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


@dataclass(frozen=True)
class Stopping:
    """When a sample ends before ``max_new_tokens``; each row of a batch ends on its own."""

    end_of_text: int | None = None  # a row that draws this id is finished (None: never)
    strings: tuple[str, ...] = ()  # a row whose text comes to contain one ends before it

    def cut(self, text: str) -> int | None:
        """Where ``text`` ends because of a stop string, or None if it contains none."""
        found = [text.find(stop) for stop in self.strings if stop in text]
        return min(found) if found else None


def stopping_for(tokenizer: Any, stop: Sequence[str] = (),
                 ignore_end_of_text: bool = False) -> Stopping:
    """How samples of ``tokenizer``'s model end: at its end-of-text token unless
    ``ignore_end_of_text``, and before any of the ``stop`` strings."""
    if any(not text for text in stop):
        raise ZooError("a stop string must not be empty")
    return Stopping(None if ignore_end_of_text else end_of_text_id(tokenizer), tuple(stop))


def prompt_ids(tokenizer: Any, prompt: str, start_text: str = "\n") -> list[int]:
    """The prompt's tokens, starting a document: after the end-of-text token, where the
    tokenizer has one. Without one, an empty prompt starts from ``start_text``
    (nanoGPT: a newline).

    A prompt the tokenizer cannot represent (a character tokenizer meeting a
    character it never saw) is refused, naming the characters, rather than
    continued as something else.
    """
    end_of_text = end_of_text_id(tokenizer)
    start = [] if end_of_text is None else [end_of_text]
    text = prompt if prompt or start else start_text
    try:
        ids = list(tokenizer.encode(text)) if text else []
    except ValueError as error:
        raise ZooError(f"the prompt cannot be encoded: {error}") from None
    if not ids and not start:
        raise ZooError(f"the prompt {prompt!r} encodes to no tokens; give a longer --prompt")
    if tokenizer.decode(ids) != text:
        _refuse_unrepresentable(tokenizer, text)
    return start + ids


def _refuse_unrepresentable(tokenizer: Any, text: str) -> None:
    """Raise the error for a prompt the tokenizer cannot give back, naming its characters."""
    unknown = sorted({c for c in text if tokenizer.decode(tokenizer.encode(c)) != c})
    shown = ", ".join(repr(c) for c in unknown) or "some of its text"
    raise ZooError(f"the prompt has characters this run's tokenizer cannot represent "
                   f"({shown}); leave them out")


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


class StoppingStreamer:
    """Streams one row's text when stop strings apply: text that may be the start of a
    stop string is held back until the next tokens show it is not."""

    def __init__(self, decode: Callable[[Sequence[int]], str], stopping: Stopping) -> None:
        self._decode = decode
        self._stopping = stopping
        self._emitted = 0  # characters of the row's text given out so far

    def update(self, ids: Sequence[int], final: bool = False) -> str:
        """The new text of a row whose tokens are now ``ids``."""
        text = self._decode(ids)
        end = self._stopping.cut(text)
        if end is None:
            end = len(text)
            if not final:
                held = max((n for stop in self._stopping.strings for n in range(1, len(stop))
                            if text.endswith(stop[:n])), default=0)
                end -= held
                while end > self._emitted and text[end - 1] == "\ufffd":  # a partial character
                    end -= 1
        new = text[self._emitted : max(end, self._emitted)]
        self._emitted = max(end, self._emitted)
        return new


def continue_sequences(
    logits: np.ndarray,
    step: Callable[[np.ndarray], np.ndarray],
    *,
    decode: Callable[[Sequence[int]], str],
    max_new_tokens: int,
    settings: SamplingSettings,
    rng: np.random.Generator,
    on_text: Callable[[str], None] | None = None,
    stopping: Stopping | None = None,
) -> list[str]:
    """The sampling loop shared by the PyTorch and onnxruntime samplers.

    ``logits`` (B, V) are the model's prediction after the prompt; ``step``
    feeds one chosen token per row (B,) with the carried state and returns the
    next logits (B, V). A row ends at ``max_new_tokens``, or earlier as
    ``stopping`` says (the end-of-text token and stop strings are not part of
    its text); the loop ends when every row has. ``on_text`` streams text as
    it completes (one row only). Returns each row's generated text.
    """
    stopping = stopping or Stopping()
    rows = logits.shape[0]
    generated: list[list[int]] = [[] for _ in range(rows)]
    finished = [False] * rows
    cut_texts: list[str | None] = [None] * rows  # a row's text, cut at its stop string
    streaming = on_text is not None and rows == 1
    incremental = IncrementalDecoder(decode)
    streamer = StoppingStreamer(decode, stopping)
    for position in range(max_new_tokens):
        next_ids = choose_next(logits, settings, rng)  # (B,)
        for row, token in enumerate(next_ids.tolist()):
            if finished[row]:
                continue
            if token == stopping.end_of_text:
                finished[row] = True
                continue
            generated[row].append(token)
            if stopping.strings:
                text = decode(generated[row])
                end = stopping.cut(text)
                if end is not None:
                    cut_texts[row], finished[row] = text[:end], True
        if streaming and on_text is not None:
            if stopping.strings:
                on_text(streamer.update(generated[0]))
            elif not finished[0]:  # without stop strings, only end of text finishes a row
                on_text(incremental.push(next_ids.tolist()))
        if all(finished):
            break
        if position + 1 < max_new_tokens:  # the last choice needs no step after it
            logits = step(next_ids)
    if streaming and on_text is not None:
        on_text(streamer.update(generated[0], final=True) if stopping.strings
                else incremental.flush())
    return [cut if cut is not None else decode(row)
            for cut, row in zip(cut_texts, generated, strict=True)]
