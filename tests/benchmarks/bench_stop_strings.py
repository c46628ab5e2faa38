"""Benchmark: sampling 20,000 tokens with a stop string that never occurs, old check against new.

The stop-string check used to decode and search a sample's whole text again
at every token, time quadratic in the text's length; it now decodes each
token with a few tokens of context and searches only the tail where a new
match can lie (zoo.sampling.loop.StopStringWatch). Both run here, in one
process, on the same tokens, the old one copied below as it was:

- `model`: `zoo sample`'s path (zoo.sampling.torch_sampler.generate, one
  streamed sample, end of text ignored) from a small gru-tied model trained
  for a few steps on Tiny Shakespeare, with the stop string "<|end|>", whose
  characters Tiny Shakespeare lacks;
- `loop`: the sampling loop alone, replaying the tokens that sample drew, so
  that only decoding, streaming and the stop check are timed.

Reported: seconds of each (median of --rounds), and old / new. The texts of
old and new are checked to be the same.

Usage: python tests/benchmarks/bench_stop_strings.py [--tokens 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import save

import zoo
from zoo.sampling import loop
from zoo.sampling.torch_sampler import generate

NEVER = "<|end|>"  # '<', '|' and '>' are not in Tiny Shakespeare: the char model cannot draw them


class QuadraticStreamer:
    """zoo.sampling.loop.StoppingStreamer before the check became linear."""

    def __init__(self, decode: Callable[[Sequence[int]], str], stopping: loop.Stopping) -> None:
        self._decode = decode
        self._stopping = stopping
        self._emitted = 0

    def update(self, ids: Sequence[int], final: bool = False) -> str:
        text = self._decode(ids)  # the whole text, at every token
        end = self._stopping.cut(text)
        if end is None:
            end = len(text)
            if not final:
                held = max((n for stop in self._stopping.strings for n in range(1, len(stop))
                            if text.endswith(stop[:n])), default=0)
                end -= held
                while end > self._emitted and text[end - 1] == "\ufffd":
                    end -= 1
        new = text[self._emitted : max(end, self._emitted)]
        self._emitted = max(end, self._emitted)
        return new


def quadratic_continue_choices(
    first: Sequence[int] | np.ndarray,
    advance: Callable[[Sequence[int]], Sequence[int] | np.ndarray],
    *,
    decode: Callable[[Sequence[int]], str],
    max_new_tokens: int,
    on_text: Callable[[str], None] | None = None,
    stopping: loop.Stopping | None = None,
) -> list[str]:
    """zoo.sampling.loop.continue_choices before the check became linear."""
    stopping = stopping or loop.Stopping()
    end_of_text, strings = stopping.end_of_text, stopping.strings
    rows = len(first)
    generated: list[list[int]] = [[] for _ in range(rows)]
    finished = [False] * rows
    cut_texts: list[str | None] = [None] * rows
    stream = on_text if rows == 1 else None
    incremental = loop.IncrementalDecoder(decode)
    streamer = QuadraticStreamer(decode, stopping)
    chosen = list(np.asarray(first).tolist())
    for position in range(max_new_tokens):
        if position:
            chosen = np.asarray(advance(chosen)).tolist()
        for row, token in enumerate(chosen):
            if finished[row]:
                continue
            if token == end_of_text:
                finished[row] = True
                continue
            generated[row].append(token)
            if strings:
                text = decode(generated[row])  # the whole text, at every token
                end = stopping.cut(text)
                if end is not None:
                    cut_texts[row], finished[row] = text[:end], True
        if stream is not None:
            if strings:
                stream(streamer.update(generated[0]))
            elif not finished[0]:
                stream(incremental.push(chosen))
        if all(finished):
            break
    if stream is not None:
        stream(streamer.update(generated[0], final=True) if strings else incremental.flush())
    return [cut if cut is not None else decode(row)
            for cut, row in zip(cut_texts, generated, strict=True)]


@contextlib.contextmanager
def check(old: bool) -> Iterator[None]:
    """Sample with the old stop-string check (``old``) or zoo's own."""
    linear = loop.continue_choices
    if old:
        loop.continue_choices = quadratic_continue_choices  # continue_sequences calls it
    try:
        yield
    finally:
        loop.continue_choices = linear


def sample(run: zoo.Run, tokens: int) -> tuple[str, str]:
    """One streamed sample of ``tokens`` tokens: (the text returned, the text streamed)."""
    streamed: list[str] = []
    text = generate(run.model, run.tokenizer, max_new_tokens=tokens, seed=0,
                    on_text=streamed.append, stop=[NEVER], ignore_end_of_text=True)[0]
    return text, "".join(streamed)


def replay(run: zoo.Run, ids: list[int]) -> str:
    """The sampling loop alone on ``ids``: decoding, streaming and the stop check."""
    position = 0

    def advance(chosen: Sequence[int]) -> list[int]:
        nonlocal position
        position += 1
        return [ids[position]]

    streamed: list[str] = []
    return loop.continue_choices([ids[0]], advance, decode=run.tokenizer.decode,
                                 max_new_tokens=len(ids), on_text=streamed.append,
                                 stopping=loop.Stopping(None, (NEVER,)))[0]


def timed(work: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    """Median seconds of ``work`` over ``rounds``, and what it returned."""
    seconds, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run = zoo.train("gru-tied", out=Path(scratch) / "run", steps=20, batch_size=8,
                        block_size=64, progress=False, log=lambda _: None,
                        **{"model.embed": 64, "model.hidden": 128, "model.layers": 1,
                           "train.eval_interval": 20, "train.eval_batches": 1})
        results: dict[str, Any] = {"tokens": options.tokens, "rounds": options.rounds,
                                   "stop": NEVER, "model": "gru-tied 1 x 128, char"}
        texts = {}
        for old in (True, False):
            with check(old):
                seconds, (text, streamed) = timed(lambda: sample(run, options.tokens),
                                                  options.rounds)
            assert streamed == text and NEVER not in text
            texts[old] = text
            results[f"model_{'old' if old else 'new'}_s"] = round(seconds, 3)
        assert texts[True] == texts[False], "the old and the new check sampled different texts"
        ids = list(run.tokenizer.encode(texts[False]))
        for old in (True, False):
            with check(old):
                seconds, text = timed(lambda: replay(run, ids), options.rounds)
            assert text == texts[False]
            results[f"loop_{'old' if old else 'new'}_s"] = round(seconds, 3)
    for part in ("model", "loop"):
        results[f"{part}_old_over_new"] = round(results[f"{part}_old_s"]
                                                / results[f"{part}_new_s"], 1)
    print(results)
    print(f"saved {save('stop_strings', results)}")


if __name__ == "__main__":
    main()
