"""Batches: random windows, contiguous streams for TBPTT, evaluation windows, rank splits."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.data.batches import (
    ContiguousStreams,
    RandomWindows,
    batch_sampler,
    consecutive_batches,
    evaluation_batches,
)
from zoo.data.streams import TokenStream
from zoo.errors import ZooError
from zoo.training.data import check_long_enough, training_data

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


def test_evaluation_batches_are_fixed_and_shared_out_between_ranks():
    all_batches = [x for x, _ in evaluation_batches(STREAM, 16, 4, 6)]
    assert len(all_batches) == 6
    again = [x for x, _ in evaluation_batches(STREAM, 16, 4, 6)]
    assert all((a == b).all() for a, b in zip(all_batches, again, strict=True))
    rank0 = [x for x, _ in evaluation_batches(STREAM, 16, 4, 6, rank=0, world_size=2)]
    rank1 = [x for x, _ in evaluation_batches(STREAM, 16, 4, 6, rank=1, world_size=2)]
    assert len(rank0) == len(rank1) == 3
    merged = sorted(tuple(b.ravel()) for b in rank0 + rank1)
    assert merged == sorted(tuple(b.ravel()) for b in all_batches)


def test_consecutive_batches_cover_every_full_window_once():
    targets = np.concatenate([y.ravel() for _, y in consecutive_batches(STREAM, 16, 5)])
    assert targets.tolist() == list(range(1, 1 + (999 // 16) * 16))


def test_corpus_shorter_than_a_window_is_refused():
    with pytest.raises(ZooError, match="fewer than block_size"):
        check_long_enough({"train": STREAM}, 1000)
    with pytest.raises(ZooError, match="--stateful needs"):
        ContiguousStreams(STREAM, 100, 16, seed=0)


def test_tokens_per_char():
    assert STREAM.tokens_per_char == 0.5


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
