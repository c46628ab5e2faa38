"""Choosing the next token (temperature, top-k, top-p) and streaming decoded text."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.sampling_loop import IncrementalDecoder, SamplingSettings, choose_next

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

    def random(self, shape):
        return np.full(shape, self.value)


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
