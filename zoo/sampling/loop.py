"""Choosing the next token from logits, and streaming decoded text. numpy only, no torch.

Both the PyTorch sampler and the onnxruntime sampler use these, so that the
same settings and seed give the same choices on either path: the PyTorch
sampler chooses with :func:`token_chooser`; the onnxruntime sampler computes
the same formula inside its graph, from the same draws, and runs the same
loop (:func:`continue_choices`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.data.documents import end_of_text_id
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
    logits = np.asarray(logits)
    return token_chooser(settings, *logits.shape)(logits, rng)


Chooser = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def token_chooser(settings: SamplingSettings, rows: int, vocab: int) -> Chooser:
    """:func:`choose_next` for logits of one shape (rows, vocab), its buffers made once.

    The sampling loops call it once a token, so it does as little as it can:
    greedy is one argmax; sampling works in place in one float64 buffer, and
    one row finds its token by binary search in the running total. Every path
    computes what the plain formula computes, operation for operation (the
    float64 softmax of logits / temperature, top-k and top-p, then the first
    index whose running total exceeds the draw), so a seed chooses the same
    tokens on every path and at every batch size.
    """
    if settings.temperature == 0:
        return _greedy
    temperature = settings.temperature
    top_k = settings.top_k if settings.top_k is not None and settings.top_k < vocab else None
    top_p = settings.top_p if settings.top_p is not None and settings.top_p < 1 else None
    scores = np.empty((rows, vocab), dtype=np.float64)  # (B, V), reused for every token
    row = scores[0]  # (V,) one row's scores, when there is one

    def choose(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rows == 1 and top_p is None:
            return _draw_one(logits[0], temperature, top_k, row, rng)
        probs = _probabilities(logits, temperature, top_k, out=scores)
        if top_p is not None:
            probs = _nucleus(probs, top_p)
        cumulative = np.add.accumulate(probs, axis=-1, out=probs)  # (B, V), np.cumsum's sums
        # The first index whose running total exceeds the draw: always a token of nonzero
        # probability, even for a draw of exactly 0 or a total that rounds below 1.
        threshold = rng.random((rows, 1)) * cumulative[:, -1:]  # (B, 1)
        return (cumulative <= threshold).sum(axis=-1).astype(np.int64)

    return choose


def _greedy(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The argmax of each row (B,): exact in the logits' own dtype, no float64 copy."""
    return np.asarray(np.asarray(logits).argmax(axis=-1), dtype=np.int64)


def _keep_top_k(scores: np.ndarray, top_k: int) -> None:
    """Set every score below each row's k-th largest to -inf, in place."""
    kth = np.partition(scores, -top_k, axis=-1)[..., -top_k, None]  # (..., 1)
    np.copyto(scores, -np.inf, where=scores < kth)


def _probabilities(logits: np.ndarray, temperature: float, top_k: int | None,
                   out: np.ndarray) -> np.ndarray:
    """The float64 softmax of ``logits / temperature`` after top-k, written into ``out``
    (the logits' shape) and returned."""
    np.divide(logits, temperature, out=out, dtype=np.float64)
    if top_k is not None:
        _keep_top_k(out, top_k)
    return _softmax_in_place(out)


def _softmax_in_place(scores: np.ndarray) -> np.ndarray:
    """exp(scores - max) / sum along the last axis, written over ``scores``.

    The ufuncs' own reduce and accumulate are what ``max``, ``sum`` and
    ``cumsum`` call, without their Python wrappers: the same sums, a few
    microseconds a token cheaper.
    """
    np.subtract(scores, np.maximum.reduce(scores, axis=-1, keepdims=True), out=scores)
    np.exp(scores, out=scores)
    np.divide(scores, np.add.reduce(scores, axis=-1, keepdims=True), out=scores)
    return scores


def _nucleus(probs: np.ndarray, top_p: float) -> np.ndarray:
    """``probs`` (B, V) cut to the smallest most-likely set whose mass reaches ``top_p``,
    renormalised."""
    order = np.argsort(-probs, axis=-1, kind="stable")  # (B, V) most likely first
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    # keep a token if the mass before it is still below p (the first is always kept)
    keep_sorted = np.cumsum(sorted_probs, axis=-1) - sorted_probs < top_p
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    probs = np.where(keep, probs, 0.0)
    probs /= probs.sum(axis=-1, keepdims=True)
    return probs


def _draw_one(logits: np.ndarray, temperature: float, top_k: int | None, scores: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """One row's token from its logits (V,), through ``scores`` (V,) float64: the batch
    path's arithmetic on one row, and the count of running totals at or below the draw
    found by binary search (a running total of probabilities never decreases)."""
    _probabilities(logits, temperature, top_k, out=scores)
    np.add.accumulate(scores, out=scores)
    threshold = rng.random() * scores[-1]  # the value rng.random((1, 1)) would draw
    if threshold != threshold:  # NaN logits: no running total is at or below NaN
        return np.zeros(1, dtype=np.int64)
    return np.array([scores.searchsorted(threshold, side="right")], dtype=np.int64)


@dataclass(frozen=True)
class Stopping:
    """When a sample ends before ``max_new_tokens``; each row of a batch ends on its own."""

    end_of_text: int | None = None  # a row that draws this id is finished (None: never)
    strings: tuple[str, ...] = ()  # a row whose text comes to contain one ends before it

    def cut(self, text: str) -> int | None:
        """Where ``text`` ends because of a stop string, or None if it contains none."""
        found = [text.find(stop) for stop in self.strings if stop in text]
        return min(found) if found else None

    @property
    def overlap(self) -> int:
        """How many characters before a new piece of text a stop string ending in it may
        start: one fewer than the longest stop string's length."""
        return max((len(stop) for stop in self.strings), default=1) - 1


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


class StopStringWatch:
    """One row's text, decoded as its tokens come, and where its first stop string starts.

    Linear in the text's length: each token is decoded with a few tokens of
    context (:class:`IncrementalDecoder`), and only the tail that can hold a
    new match is searched, the new piece and the
    :attr:`Stopping.overlap` characters before it (the text before it held no
    stop string, or the row would have ended). Searching the whole text again
    at every token, as before, took time quadratic in its length.
    """

    def __init__(self, decode: Callable[[Sequence[int]], str], stopping: Stopping) -> None:
        self._decoder = IncrementalDecoder(decode)
        self._strings = stopping.strings
        self._overlap = stopping.overlap
        self._tail = ""  # the text's last ``overlap`` characters
        self.length = 0  # characters of the row's text decoded so far
        self.end: int | None = None  # where the text ends at its first stop string, once seen

    def push(self, token: int) -> str:
        """Add one token; return the text it completes (possibly empty), searched already."""
        return self._search(self._decoder.push((token,)))

    def flush(self) -> str:
        """The text still held back (a partial character), searched too."""
        return self._search(self._decoder.flush())

    def _search(self, piece: str) -> str:
        window = self._tail + piece
        found = [window.find(stop) for stop in self._strings if stop in window]
        if found and self.end is None:
            self.end = self.length - len(self._tail) + min(found)
        self.length += len(piece)
        self._tail = window[max(0, len(window) - self._overlap):] if self._overlap else ""
        return piece


class StoppingStreamer:
    """Streams one row's text when stop strings apply: text that may be the start of a
    stop string is held back until the next pieces show it is not.

    It is given the row's text piece by piece (from a :class:`StopStringWatch`,
    which holds back partial characters), so each piece costs time for itself
    and the stop strings, not for the text before it.
    """

    def __init__(self, stopping: Stopping) -> None:
        self._strings = stopping.strings
        self._overlap = stopping.overlap
        self._pending = ""  # the text after what was given out
        self._tail = ""  # the text's last ``overlap`` characters
        self._length = 0  # characters of the row's text so far
        self._emitted = 0  # characters of the row's text given out so far

    def update(self, piece: str, end: int | None, final: bool = False) -> str:
        """The new text to give out once ``piece`` has joined the row's text; ``end`` is where
        the text ends at a stop string (None: none yet), ``final`` that no more will come."""
        self._pending += piece
        self._length += len(piece)
        self._tail = (self._tail + piece)[-self._overlap:] if self._overlap else ""
        if end is None:
            end = self._length
            if not final:  # hold back a tail that a stop string may start with
                end -= max((n for stop in self._strings for n in range(1, len(stop))
                            if self._tail.endswith(stop[:n])), default=0)
        new = self._pending[: max(end - self._emitted, 0)]
        self._pending = self._pending[len(new):]
        self._emitted += len(new)
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
    next logits (B, V). Tokens are chosen by :func:`token_chooser`; the rest is
    :func:`continue_choices`.
    """
    rows, vocab = logits.shape
    choose = token_chooser(settings, rows, vocab)

    def advance(next_ids: Sequence[int]) -> np.ndarray:
        return choose(step(np.asarray(next_ids, dtype=np.int64)), rng)

    # no choice, and so no draw, when no token is wanted (a shared generator stays put)
    first = choose(logits, rng) if max_new_tokens > 0 else np.zeros(rows, dtype=np.int64)
    return continue_choices(first, advance, decode=decode, max_new_tokens=max_new_tokens,
                            on_text=on_text, stopping=stopping)


def _id_list(ids: Sequence[int] | np.ndarray) -> list[int]:
    """Token ids (B,) as a list of Python ints."""
    return ids.tolist() if isinstance(ids, np.ndarray) else list(ids)


def continue_choices(
    first: Sequence[int] | np.ndarray,
    advance: Callable[[Sequence[int]], Sequence[int] | np.ndarray],
    *,
    decode: Callable[[Sequence[int]], str],
    max_new_tokens: int,
    on_text: Callable[[str], None] | None = None,
    stopping: Stopping | None = None,
) -> list[str]:
    """The loop of :func:`continue_sequences` for a step that chooses its tokens itself
    (the onnxruntime sampler chooses inside the graph).

    ``first`` (B,) are the ids chosen after the prompt; ``advance`` feeds chosen
    ids (B,) with the carried state and returns the ids chosen next. A row
    ends at ``max_new_tokens``, or earlier as ``stopping`` says (the
    end-of-text token and stop strings are not part of its text); the loop
    ends when every row has, and ``advance`` is called only while a choice is
    still wanted. ``on_text`` streams text as it completes (one row only).
    Returns each row's generated text. Stop strings are looked for in time
    linear in the text's length (:class:`StopStringWatch`).
    """
    stopping = stopping or Stopping()
    end_of_text, strings = stopping.end_of_text, stopping.strings
    rows = len(first)
    generated: list[list[int]] = [[] for _ in range(rows)]
    finished = [False] * rows
    cut_texts: list[str | None] = [None] * rows  # a row's text, cut at its stop string
    stream = on_text if rows == 1 else None
    incremental = IncrementalDecoder(decode)
    watches = [StopStringWatch(decode, stopping) for _ in range(rows)] if strings else []
    streamer = StoppingStreamer(stopping)
    piece, chosen = "", _id_list(first)
    for position in range(max_new_tokens):
        if position:  # the last choice needs no step after it
            chosen = _id_list(advance(chosen))  # (B,)
        for row, token in enumerate(chosen):
            if finished[row]:
                continue
            if token == end_of_text:
                finished[row] = True
                continue
            generated[row].append(token)
            if strings:
                watch = watches[row]
                new = watch.push(token)
                if row == 0:
                    piece = new
                if watch.end is not None:  # the row's text, decoded whole once, is cut there
                    text = decode(generated[row])
                    end = stopping.cut(text)
                    if end is None:  # a decoder whose pieces are not the whole's: go on
                        watch.end = None
                    else:
                        cut_texts[row], finished[row] = text[:end], True
        if stream is not None:
            if strings:
                stream(streamer.update(piece, watches[0].end))
                piece = ""
            elif not finished[0]:  # without stop strings, only end of text finishes a row
                stream(incremental.push(chosen))
        if all(finished):
            break
    if stream is not None:
        if strings:
            rest = watches[0].flush() if watches[0].end is None else ""
            stream(streamer.update(rest, watches[0].end, final=True))
        else:
            stream(incremental.flush())
    return [cut if cut is not None else decode(row)
            for cut, row in zip(cut_texts, generated, strict=True)]
