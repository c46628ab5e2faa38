"""Choosing the next token (temperature, top-k, top-p) and streaming decoded text."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.sampling.loop import (
    IncrementalDecoder,
    SamplingSettings,
    Stopping,
    choose_next,
    continue_choices,
    continue_sequences,
    token_chooser,
)

PROBS = np.array([0.5, 0.3, 0.15, 0.05])


def rows(logits, n: int) -> np.ndarray:
    """The same logits repeated in ``n`` rows, so that one call draws ``n`` samples."""
    return np.tile(np.asarray(logits, dtype=np.float64), (n, 1))


def test_temperature_zero_is_argmax_per_row():
    winners = [3, 0, 6, 2]
    logits = np.full((4, 7), -1.0)
    for row, winner in enumerate(winners):
        logits[row, winner] = 2.5
        logits[row, (winner + 1) % 7] = 2.0  # a close runner-up
    chosen = choose_next(logits, SamplingSettings(temperature=0), np.random.default_rng(0))
    assert chosen.tolist() == winners
    assert chosen.dtype == np.int64


@pytest.mark.parametrize("temperature", [0.5, 1.0, 10.0])
def test_top_k_one_is_argmax_whatever_the_temperature(temperature):
    logits = rows([0.1, 0.3, 0.2, 0.25], 2000)
    chosen = choose_next(
        logits, SamplingSettings(temperature=temperature, top_k=1), np.random.default_rng(1)
    )
    assert set(chosen.tolist()) == {1}


@pytest.mark.parametrize("k", [2, 3, 5])
def test_top_k_never_leaves_the_k_largest(k):
    logits = [0.0, 3.0, -1.0, 2.5, 1.0, 2.8, 0.5, 1.5]
    largest = set(np.argsort(logits)[-k:].tolist())
    chosen = choose_next(
        rows(logits, 5000), SamplingSettings(temperature=2.0, top_k=k), np.random.default_rng(2)
    )
    assert set(chosen.tolist()) == largest  # only these, and every one of them is reachable


@pytest.mark.parametrize(("top_p", "allowed"), [(0.5, {0}), (0.6, {0, 1}), (0.9, {0, 1, 2})])
def test_top_p_keeps_the_smallest_prefix_reaching_p(top_p, allowed):
    chosen = choose_next(
        rows(np.log(PROBS), 5000),
        SamplingSettings(temperature=1.0, top_p=top_p),
        np.random.default_rng(3),
    )
    assert set(chosen.tolist()) == allowed


def test_top_p_renormalises_the_kept_tokens():
    chosen = choose_next(
        rows(np.log(PROBS), 20000),
        SamplingSettings(temperature=1.0, top_p=0.6),
        np.random.default_rng(4),
    )
    share = np.bincount(chosen, minlength=4) / len(chosen)
    np.testing.assert_allclose(share, [0.5 / 0.8, 0.3 / 0.8, 0, 0], atol=0.02)


def test_same_seed_same_draws():
    logits = np.random.default_rng(5).normal(size=(500, 20))
    settings = SamplingSettings(temperature=1.0, top_k=10, top_p=0.9)
    first = choose_next(logits, settings, np.random.default_rng(42))
    second = choose_next(logits, settings, np.random.default_rng(42))
    other = choose_next(logits, settings, np.random.default_rng(43))
    assert first.tolist() == second.tolist()
    assert first.tolist() != other.tolist()


def test_frequencies_at_temperature_one_approach_softmax():
    logits = np.array([1.0, 0.0, -0.5, 2.0, 0.5])
    expected = np.exp(logits) / np.exp(logits).sum()
    chosen = choose_next(rows(logits, 20000), SamplingSettings(1.0), np.random.default_rng(6))
    share = np.bincount(chosen, minlength=5) / len(chosen)
    np.testing.assert_allclose(share, expected, atol=0.02)


def test_high_temperature_flattens_the_distribution():
    logits = rows(np.log(PROBS), 20000)
    hot = choose_next(logits, SamplingSettings(temperature=100.0), np.random.default_rng(7))
    share = np.bincount(hot, minlength=4) / len(hot)
    np.testing.assert_allclose(share, [0.25] * 4, atol=0.03)


class FixedDraw:
    """A generator whose uniform draws are all one value (``random`` covers [0, 1))."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self, shape=None):
        return self.value if shape is None else np.full(shape, self.value)


def test_a_zero_draw_never_picks_a_masked_token():
    logits = np.array([[0.0, 5.0, 4.0, -1.0]])  # top-2 keeps tokens 1 and 2 only
    chosen = choose_next(logits, SamplingSettings(temperature=1.0, top_k=2), FixedDraw(0.0))
    assert chosen.tolist() == [1]


def test_a_draw_at_the_top_never_picks_a_masked_trailing_token():
    logits = np.array([[5.0, 4.0, -1.0, -2.0]])  # top-2 keeps tokens 0 and 1 only
    settings = SamplingSettings(temperature=1.0, top_k=2)
    chosen = choose_next(logits, settings, FixedDraw(np.nextafter(1.0, 0.0)))
    assert chosen.tolist() == [1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"temperature": -0.1},
        {"top_k": 0},
        {"top_k": -3},
        {"top_p": 0.0},
        {"top_p": 1.01},
        {"top_p": -0.5},
    ],
)
def test_settings_reject_bad_values(kwargs):
    with pytest.raises(ValueError):
        SamplingSettings(**kwargs)


def test_settings_accept_boundary_values():
    SamplingSettings(temperature=0.0, top_k=1, top_p=1.0)


def test_incremental_decoder_streams_characters_one_by_one():
    text = "To be, or not to be:\nthat is the question."
    chars = sorted(set(text))
    ids = [chars.index(ch) for ch in text]
    decoder = IncrementalDecoder(lambda ids: "".join(chars[i] for i in ids))
    pieces = [decoder.push([i]) for i in ids]
    assert pieces == list(text)  # each token's character comes out as soon as it is pushed
    assert decoder.flush() == ""


def test_incremental_decoder_in_chunks():
    text = "All the world's a stage, and all the men and women merely players"
    chars = sorted(set(text))
    ids = [chars.index(ch) for ch in text]
    decoder = IncrementalDecoder(lambda ids: "".join(chars[i] for i in ids), context=3)
    out = "".join(decoder.push(ids[i : i + 5]) for i in range(0, len(ids), 5))
    assert out + decoder.flush() == text


def utf8(ids) -> str:
    return bytes(ids).decode("utf-8", errors="replace")


def test_incremental_decoder_holds_back_partial_utf8():
    text = "naïve € 😀 done"
    data = list(text.encode("utf-8"))
    decoder = IncrementalDecoder(utf8)
    pieces = [decoder.push([b]) for b in data]
    assert "".join(pieces) + decoder.flush() == text
    assert "\ufffd" not in "".join(pieces)
    emoji = "😀".encode()
    start = text.encode("utf-8").index(emoji)
    assert pieces[start : start + 3] == ["", "", ""]  # nothing while the emoji is partial
    assert pieces[start + 3] == "😀"


def test_incremental_decoder_flush_returns_a_trailing_partial_character():
    decoder = IncrementalDecoder(utf8)
    assert decoder.push(list(b"ok")) == "ok"
    assert decoder.push(list("€".encode())[:2]) == ""
    assert decoder.flush() == "\ufffd"


def reference_choice(logits, settings, rng):
    """The sampling formula written plainly: what every fast path must compute exactly."""
    scores = np.asarray(logits, dtype=np.float64) / settings.temperature
    if settings.top_k is not None and settings.top_k < scores.shape[-1]:
        kth = np.partition(scores, -settings.top_k, axis=-1)[:, -settings.top_k, None]
        scores = np.where(scores < kth, -np.inf, scores)
    probs = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    if settings.top_p is not None and settings.top_p < 1:
        order = np.argsort(-probs, axis=-1, kind="stable")
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        keep_sorted = np.cumsum(sorted_probs, axis=-1) - sorted_probs < settings.top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(probs, axis=-1)
    threshold = rng.random((probs.shape[0], 1)) * cumulative[:, -1:]
    return (cumulative <= threshold).sum(axis=-1)


@pytest.mark.parametrize("settings", [
    SamplingSettings(0.8), SamplingSettings(1.7, top_k=3), SamplingSettings(0.5, top_p=0.9),
    SamplingSettings(1.0, top_k=40, top_p=0.7)], ids=str)
@pytest.mark.parametrize("rows", [1, 2, 16])
def test_the_chooser_is_the_plain_formula_draw_for_draw(settings, rows):
    """Its buffers reused call after call, one row or many, ties and -inf included."""
    data = np.random.default_rng(rows)
    for vocab in (2, 67, 1000):
        choose = token_chooser(settings, rows, vocab)
        ours, theirs = np.random.default_rng(vocab), np.random.default_rng(vocab)
        for case in range(200):
            logits = (data.normal(size=(rows, vocab)) * data.choice([0.1, 3, 50])).astype(
                np.float32)
            if case % 4 == 0:
                logits = np.round(logits)
            if case % 5 == 0:
                logits[:, data.integers(vocab)] = -np.inf
            expected = reference_choice(logits, settings, theirs)
            assert choose(logits, ours).tolist() == expected.tolist()


def test_no_token_wanted_takes_no_draw():
    rng = np.random.default_rng(3)
    texts = continue_sequences(np.zeros((1, 5)), lambda ids: np.zeros((1, 5)), decode=str,
                               max_new_tokens=0, settings=SamplingSettings(), rng=rng)
    assert texts == ["[]"]
    assert rng.random() == np.random.default_rng(3).random()


def test_a_step_that_chooses_for_itself_runs_the_same_loop():
    """continue_choices takes ids as lists or arrays, and asks for no step past the last."""
    asked = []

    def advance(ids):
        asked.append(list(ids))
        return [ids[0] + 1, 0]

    texts = continue_choices(np.array([3, 0]), advance, decode=lambda ids: ",".join(map(str, ids)),
                             max_new_tokens=4, stopping=Stopping(end_of_text=0))
    assert texts == ["3,4,5,6", ""]
    assert asked == [[3, 0], [4, 0], [5, 0]]


#: Tokens of several characters, so that a stop string can span tokens.
PIECES = ["a", "b", "ab", "ba", "abc", "c", " ", "é", "\n"]


def pieces(ids) -> str:
    return "".join(PIECES[i] for i in ids)


def replay(tokens):
    """``first`` and ``advance`` for :func:`continue_choices` that choose ``tokens`` (B, N), one
    column a step; ``advance.calls`` counts the steps asked for."""
    tokens = np.asarray(tokens)

    def advance(ids):
        advance.calls += 1
        return tokens[:, advance.calls]

    advance.calls = 0
    return tokens[:, 0], advance


def test_a_stop_string_spanning_two_tokens_is_found():
    ids = [PIECES.index(p) for p in ["ab", "ba", " ", "abc", "ab", "c", "a", "b"]]
    first, advance = replay([ids])
    shown = []
    texts = continue_choices(first, advance, decode=pieces, max_new_tokens=len(ids),
                             on_text=shown.append, stopping=Stopping(strings=("ca", "cab")))
    # "abba abcabcab": 'ca' spans "abc" and "ab"; the stop string is not part of the text
    assert texts == ["abba ab"]
    assert "".join(shown) == "abba ab"
    assert advance.calls == 4  # the row ended at the token that completed 'ca'


def test_a_stop_string_longer_than_the_pieces_before_it_is_found_across_many():
    ids = [PIECES.index(p) for p in ["a", "b", "c", " ", "a", "b", "c", "a"]]
    first, advance = replay([ids])
    texts = continue_choices(first, advance, decode=pieces, max_new_tokens=8,
                             stopping=Stopping(strings=("bc abca",)))
    assert texts == ["a"]


class QuadraticStreamer:
    """How a stop-string row was streamed before the check became linear: the whole text
    decoded and searched again at every token."""

    def __init__(self, decode, stopping):
        self.decode, self.stopping, self.emitted = decode, stopping, 0

    def update(self, ids, final=False):
        text = self.decode(ids)
        end = self.stopping.cut(text)
        if end is None:
            end = len(text)
            if not final:
                end -= max((n for stop in self.stopping.strings for n in range(1, len(stop))
                            if text.endswith(stop[:n])), default=0)
                while end > self.emitted and text[end - 1] == "\ufffd":
                    end -= 1
        new = text[self.emitted : max(end, self.emitted)]
        self.emitted = max(end, self.emitted)
        return new


def quadratic_loop(tokens, decode, max_new_tokens, stopping, on_text=None):
    """The sampling loop's stop strings as they were before: (texts, steps asked for)."""
    tokens = np.asarray(tokens)
    rows = len(tokens)
    generated = [[] for _ in range(rows)]
    finished, cut_texts, steps = [False] * rows, [None] * rows, 0
    streamer = QuadraticStreamer(decode, stopping)
    for position in range(max_new_tokens):
        steps += position > 0
        for row, token in enumerate(tokens[:, position].tolist()):
            if finished[row]:
                continue
            if token == stopping.end_of_text:
                finished[row] = True
                continue
            generated[row].append(token)
            text = decode(generated[row])
            end = stopping.cut(text)
            if end is not None:
                cut_texts[row], finished[row] = text[:end], True
        if on_text is not None:
            on_text(streamer.update(generated[0]))
        if all(finished):
            break
    if on_text is not None:
        on_text(streamer.update(generated[0], final=True))
    texts = [cut if cut is not None else decode(ids)
             for cut, ids in zip(cut_texts, generated, strict=True)]
    return texts, steps


@pytest.mark.parametrize(("decode", "vocab"), [(pieces, len(PIECES)), (utf8, 256)],
                         ids=["multi-character tokens", "UTF-8 bytes"])
@pytest.mark.parametrize("rows", [1, 3])
def test_the_text_before_the_stop_is_what_it_was_before_the_check_became_linear(
        decode, vocab, rows):
    """Texts, streamed pieces and steps, token for token, against the whole-text check."""
    data = np.random.default_rng(rows)
    byte_text = list("ab é€ c\n".encode())  # multi-byte characters arrive in parts
    for case in range(60):
        if decode is utf8:
            tokens = data.choice(byte_text, size=(rows, 40))
            stops = ("é€", " c", "ab ", "€")[case % 4 :][:2]
        else:
            tokens = data.integers(vocab, size=(rows, 40))
            stops = ("abca", "cc", "ba b", "é\n", "bbbbbbb")[case % 5 :][:2]
        stopping = Stopping(end_of_text=3 if case % 3 == 0 else None, strings=stops)
        expected_pieces, pieces_now = [], []
        expected, expected_steps = quadratic_loop(
            tokens, decode, 40, stopping, expected_pieces.append if rows == 1 else None)
        first, advance = replay(tokens)
        texts = continue_choices(first, advance, decode=decode, max_new_tokens=40,
                                 on_text=pieces_now.append, stopping=stopping)
        assert texts == expected
        assert advance.calls == expected_steps
        if rows == 1:
            assert "".join(pieces_now) == "".join(expected_pieces) == texts[0]
        if rows == 1 and decode is pieces:  # whole characters: streamed in the same pieces too
            assert [p for p in pieces_now if p] == [p for p in expected_pieces if p]
