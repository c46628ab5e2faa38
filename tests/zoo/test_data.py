"""Batches: random windows, contiguous streams for TBPTT, evaluation windows, rank splits."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.data.batches import (
    WHOLE_SPLIT_BATCHES,
    ContiguousStreams,
    RandomWindows,
    batch_sampler,
    consecutive_batches,
    evaluation_batches,
)
from zoo.data.documents import PAD_TARGET
from zoo.data.streams import TokenStream, check_long_enough
from zoo.errors import ZooError
from zoo.training.data import training_data

STREAM = TokenStream(np.arange(1000, dtype=np.int64), num_chars=2000)


def test_targets_are_inputs_shifted_by_one():
    x, y, reset = RandomWindows(STREAM, 16, 4, seed=1).next_batch()
    assert x.shape == y.shape == (4, 16)
    assert (y == x + 1).all()  # the stream is 0, 1, 2, ...
    assert not reset


def test_random_windows_resume_from_their_state():
    sampler = RandomWindows(STREAM, 16, 4, seed=1)
    sampler.next_batch()
    saved = sampler.state_dict()
    expected = sampler.next_batch()[0]
    again = RandomWindows(STREAM, 16, 4, seed=99)
    again.load_state_dict(saved)
    assert (again.next_batch()[0] == expected).all()


def test_ranks_draw_different_random_batches():
    rank0 = RandomWindows(STREAM, 16, 4, seed=1, rank=0, world_size=2).next_batch()[0]
    rank1 = RandomWindows(STREAM, 16, 4, seed=1, rank=1, world_size=2).next_batch()[0]
    assert not (rank0 == rank1).all()


def test_streams_continue_where_the_last_batch_ended():
    sampler = ContiguousStreams(STREAM, 10, 4, seed=0)
    x1, y1, reset1 = sampler.next_batch()
    x2, _, reset2 = sampler.next_batch()
    assert reset1 and not reset2
    assert (x2[:, 0] == y1[:, -1]).all()  # row r picks up its own stretch
    assert len(set(x1[:, 0].tolist())) == 4  # rows start in different stretches


def test_streams_start_over_and_reset_state_when_exhausted():
    sampler = ContiguousStreams(STREAM, 10, 4, seed=0)  # stretches of 250 tokens: 24 batches
    resets = [sampler.next_batch()[2] for _ in range(50)]
    assert [i for i, reset in enumerate(resets) if reset] == [0, 24, 48]


def test_ranks_read_disjoint_streams():
    first = ContiguousStreams(STREAM, 10, 2, seed=0, rank=0, world_size=2).next_batch()[0]
    second = ContiguousStreams(STREAM, 10, 2, seed=0, rank=1, world_size=2).next_batch()[0]
    assert not set(first.ravel()) & set(second.ravel())


#: A split too large to evaluate whole while training: 1,562 batches of 4 windows of 16.
LONG = TokenStream(np.arange(100_000, dtype=np.int64), num_chars=100_000)


def test_evaluation_batches_of_a_large_split_are_fixed_and_shared_out_between_ranks():
    all_batches = [x for x, _ in evaluation_batches(LONG, 16, 4, 6)]
    assert len(all_batches) == 6
    assert all_batches[0][0, 0] == 0 and all_batches[-1][-1, -1] == 100_000 - 2  # spread over it
    again = [x for x, _ in evaluation_batches(LONG, 16, 4, 6)]
    assert all((a == b).all() for a, b in zip(all_batches, again, strict=True))
    rank0 = [x for x, _ in evaluation_batches(LONG, 16, 4, 6, rank=0, world_size=2)]
    rank1 = [x for x, _ in evaluation_batches(LONG, 16, 4, 6, rank=1, world_size=2)]
    assert len(rank0) == len(rank1) == 3
    merged = sorted(tuple(b.ravel()) for b in rank0 + rank1)
    assert merged == sorted(tuple(b.ravel()) for b in all_batches)


def _targets(batches) -> list[int]:
    return [int(t) for _, y in batches for t in y.ravel() if t != PAD_TARGET]


def test_a_small_split_is_evaluated_whole_in_zoo_evals_windows():
    """16 batches of 4 windows: every evaluation while training covers every full window once,
    as ``zoo eval`` does (whatever its batch size), shared out between ranks."""
    whole = evaluation_batches(STREAM, 16, 4, 6)
    assert len(whole) == 16
    assert _targets(whole) == _targets(consecutive_batches(STREAM, 16, 5))
    shares = [evaluation_batches(STREAM, 16, 4, 6, rank=r, world_size=2) for r in (0, 1)]
    assert sorted(_targets(shares[0]) + _targets(shares[1])) == sorted(_targets(whole))
    assert _targets(whole) == _targets(whole)  # reusable: the same batches at every pass


@pytest.mark.parametrize(("windows", "whole"), [(256 * 2, True), (256 * 2 + 1, False)])
def test_a_split_is_whole_up_to_256_batches_of_the_runs_batch_size(windows, whole):
    stream = TokenStream(np.arange(windows * 4 + 1, dtype=np.int64), num_chars=1)
    batches = evaluation_batches(stream, block_size=4, batch_size=2, num_batches=16)
    assert WHOLE_SPLIT_BATCHES == 256
    assert len(batches) == (256 if whole else 16)


def test_more_eval_batches_than_the_rule_allows_still_cover_the_split_whole():
    stream = TokenStream(np.arange(300 * 2 * 4 + 1, dtype=np.int64), num_chars=1)  # 300 batches
    assert len(evaluation_batches(stream, 4, 2, num_batches=16)) == 16
    assert len(evaluation_batches(stream, 4, 2, num_batches=400)) == 300


@pytest.mark.parametrize(("documents", "expected"), [(100, 50), (1000, 8)])
def test_padded_rows_are_evaluated_whole_or_spread_by_the_same_rule(documents, expected):
    """Documents ``EOT 5 6 EOT 5 6 ...``: one padded row each; 8 batches of 2 when spread."""
    ids = np.concatenate([[1], np.tile([5, 6, 1], documents)]).astype(np.int64)
    stream = TokenStream(ids, num_chars=2 * documents, end_of_text=1)
    batches = evaluation_batches(stream, 8, 2, 8, rows="padded", whole_up_to=50)
    assert len(batches) == expected
    if expected == 50:
        assert _targets(batches) == _targets(consecutive_batches(stream, 8, 7, "padded"))


def test_zoo_evals_batches_find_their_windows_once(document_window_calls):
    """Counting the batches (a progress bar's total) and reading them builds the padded
    document windows one time, not once for each."""
    ids = np.concatenate([[1], np.tile([5, 6, 1], 40)]).astype(np.int64)
    stream = TokenStream(ids, num_chars=80, end_of_text=1)
    batches = consecutive_batches(stream, 8, 16, "padded")
    assert len(batches) == 3 and len(list(batches)) == 3
    assert len(document_window_calls) == 1


def test_consecutive_batches_cover_every_full_window_once():
    targets = np.concatenate([y.ravel() for _, y in consecutive_batches(STREAM, 16, 5)])
    assert targets.tolist() == list(range(1, 1 + (999 // 16) * 16))


def test_corpus_shorter_than_a_window_is_refused():
    with pytest.raises(ZooError, match="fewer than block_size"):
        check_long_enough({"train": STREAM}, 1000)
    with pytest.raises(ZooError, match="--stateful needs"):
        ContiguousStreams(STREAM, 100, 16, seed=0)


def test_tokens_per_char_counts_the_predicted_tokens():
    """Every token but the first is predicted (the first is only read), per character."""
    assert STREAM.predicted == 999
    assert STREAM.tokens_per_char == 999 / 2000


def test_the_sampler_follows_train_stateful():
    import dataclasses

    from zoo.config.training import TrainConfig

    train = dataclasses.replace(TrainConfig(), block_size=10, batch_size=4, seed=1)
    assert isinstance(batch_sampler(STREAM, train), RandomWindows)
    stateful = batch_sampler(STREAM, dataclasses.replace(train, stateful=True), 1, 2)
    assert isinstance(stateful, ContiguousStreams)
    assert stateful.starts.tolist() == [500, 625, 750, 875]  # rank 1 of 2: rows 4 to 7


def test_training_data_trains_a_new_tokenizer_and_reloads_a_runs_own(registry, small_corpus,
                                                                    trained_run):
    from zoo.models.loading import load_run

    config = load_run(registry, trained_run).config
    tokenizer, streams = training_data(registry, config, trained_run, resume=True)
    assert set(streams) >= {"train", "val"} and len(streams["val"].ids) > 0
    fresh, fresh_streams = training_data(registry, config, trained_run, resume=False)
    assert fresh.vocab_size == tokenizer.vocab_size
    assert (fresh_streams["val"].ids == streams["val"].ids).all()
