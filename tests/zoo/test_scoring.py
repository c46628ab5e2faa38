"""``zoo score`` and ``Run.score``: each document scored as training saw it, equal to ``zoo eval``
on the same held-out file; ``Run.documents``; the surprisal view of ``zoo inspect``; ``zoo sample
-i``."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from small_runs import invoke

import zoo
from cli_errors import one_line_error
from zoo.analysis.inspection import draw
from zoo.analysis.scoring import cut_documents, score_documents, surprisal
from zoo.cli import cli
from zoo.errors import ZooError
from zoo_plugins.datasets.text import documents_of


class Letters:
    """a..z as ids 2..27 after <unk> 0 and end of text 1 (none with ``boundaries=False``)."""

    unknown, vocab_size = "<unk>", 28

    def __init__(self, boundaries: bool = True) -> None:
        self.end_of_text = "<|endoftext|>" if boundaries else None
        self.special_tokens = {"<unk>": 0, **({"<|endoftext|>": 1} if boundaries else {})}

    def encode(self, text):
        return [ord(c) - ord("a") + 2 if "a" <= c <= "z" else 0 for c in text]

    def decode(self, ids):
        return "".join(chr(i - 2 + ord("a")) for i in ids if i >= 2)


def uniform_reader(rows):
    """A model that gives every one of 28 tokens the same logit: each token costs log 28."""
    return [surprisal(np.zeros((max(len(row) - 1, 0), 28), np.float32), row[1:]) for row in rows]


def test_surprisal_is_minus_the_log_softmax_and_rank_counts_the_better_tokens():
    logits = np.array([[[2.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]], np.float32)  # (1, 2, 4)
    nats, ranks = surprisal(logits, np.array([[1, 3]]))
    total = math.log(math.exp(2) + 2 * math.e + 1)
    assert nats[0, 0] == pytest.approx(total - 1.0, abs=1e-12)
    assert nats[0, 1] == pytest.approx(math.log(4), abs=1e-12)
    assert ranks.tolist() == [[2, 1]]  # a tie shares the better rank
    padded_nats, padded_ranks = surprisal(logits, np.array([[0, -1]]))
    assert padded_nats[0, 1] == 0 and padded_ranks[0, 1] == 0  # padding counts for nothing
    assert padded_ranks[0, 0] == 1


def test_each_document_is_read_between_two_ends_of_text():
    scores = score_documents(Letters(), ["abc", "", "zz"], uniform_reader)
    first, empty, last = scores.documents
    assert first.ids.tolist() == [1, 2, 3, 4, 1]  # EOT a b c EOT: the first EOT is context
    assert first.tokens == 4 and first.closed
    assert first.nats == pytest.approx(4 * math.log(28))
    assert first.bits_per_char == pytest.approx(4 * math.log2(28) / 3)
    assert first.perplexity == pytest.approx(28)
    assert empty.tokens == 1 and empty.bits_per_char is None  # only the end is predicted
    assert scores.tokens == 4 + 1 + 3 and scores.chars == 5
    assert scores.nats_per_token == pytest.approx(math.log(28))
    assert scores.to_dict()["total"]["documents"] == 3


def test_without_an_end_of_text_token_the_first_token_is_the_context():
    scores = score_documents(Letters(boundaries=False), ["abc", "a"], uniform_reader)
    assert [d.ids.tolist() for d in scores.documents] == [[2, 3, 4], [2]]
    assert [d.tokens for d in scores.documents] == [2, 0]
    assert scores.documents[1].nats_per_token is None and scores.documents[1].perplexity is None
    assert not scores.documents[0].closed


def test_per_token_output_names_each_token_with_its_surprisal_and_rank():
    scores = score_documents(Letters(), ["ab"], uniform_reader)
    per_token = scores.to_dict(per_token=True)["documents"][0]["per_token"]
    assert [entry["token"] for entry in per_token] == ["a", "b", "<|endoftext|>"]
    assert [entry["rank"] for entry in per_token] == [1, 1, 1]
    assert sum(entry["nats"] for entry in per_token) == pytest.approx(scores.nats)
    assert scores.to_dict()["surprisal_unit"] == "nats"
    table = scores.table(per_token=True)
    assert "document 1: ab" in table and "<|endoftext|>" in table
    unknown = score_documents(Letters(), ["a?"], uniform_reader)
    assert unknown.unknown == 1 and "<unk>: 1 of the 3 tokens" in unknown.table()


@pytest.mark.parametrize("mode", ["file", "paragraph", "line"])
def test_files_are_cut_into_documents_as_the_text_dataset_cuts_them(mode):
    text = "  emma \n\nolivia\r\nava\n \n\n\nmia\n"
    assert cut_documents(text, mode) == documents_of([text], mode)


@pytest.fixture(scope="module")
def names_run(registry, tmp_path_factory):
    """A folder with train.txt and test.txt (made-up names, one a line) and ``run``, a gru
    trained on them with padded rows, test.txt its test split."""
    folder = tmp_path_factory.mktemp("names")
    rng = random.Random(0)
    names = ["".join(rng.choice("abcdefghijkl") for _ in range(rng.randint(3, 9)))
             for _ in range(400)]
    (folder / "train.txt").write_text("\n".join(names[:340]) + "\n")
    (folder / "test.txt").write_text("\n".join(names[340:]) + "\n")
    invoke(registry, "train", "gru", "--data", str(folder / "train.txt"), "--test-data",
           str(folder / "test.txt"), "--set", "dataset.documents=line", "--set",
           "dataset.rows=padded", "--steps", "12", "--batch-size", "8", "--block-size", "16",
           "--set", "model.embed=16", "--set", "model.hidden=24", "--device", "cpu",
           "--no-progress", "--out", str(folder / "run"))
    return folder


def test_a_scored_test_file_equals_zoo_eval_on_it(runner, registry, names_run):
    run = str(names_run / "run")
    evaluated = json.loads(invoke(registry, "eval", run, "--split", "test", "--json",
                                  "--no-progress"))
    scored = json.loads(invoke(registry, "score", run, str(names_run / "test.txt"),
                               "--documents", "line", "--json"))
    assert scored["total"]["documents"] == 60
    assert scored["total"]["tokens"] == evaluated["tokens"]
    assert scored["total"]["nats_per_token"] == pytest.approx(evaluated["loss"], abs=1e-5)
    assert scored["total"]["perplexity"] == pytest.approx(evaluated["perplexity"], rel=1e-5)
    first = scored["documents"][0]
    assert first["text"] == (names_run / "test.txt").read_text().split("\n")[0]
    assert first["tokens"] == len(first["text"]) + 1  # its characters and the end of text


def test_a_runs_documents_are_its_splits_and_score_as_it_evaluates(registry, names_run):
    run = zoo.load(names_run / "run", registry=registry)
    val = run.documents("val")
    train_names = set((names_run / "train.txt").read_text().split())
    assert len(val) == 34 and set(val) <= train_names  # 10% of the training file's lines
    assert set(run.documents("train")) | set(val) == train_names
    assert run.documents("test") == (names_run / "test.txt").read_text().split()
    scores = run.score(val)
    evaluated = run.evaluate("val", progress=False)
    assert scores.tokens == evaluated["tokens"]
    assert scores.nats_per_token == pytest.approx(evaluated["loss"], abs=1e-5)


def test_a_transformer_scores_its_documents_as_it_evaluates_them(registry, names_run):
    """Documents of different lengths in one batch, right-padded: the causal mask keeps the
    padding out of every scored position."""
    out = names_run / "transformer"
    invoke(registry, "train", "transformer", "--data", str(names_run / "train.txt"), "--set",
           "dataset.documents=line", "--set", "dataset.rows=padded", "--steps", "12",
           "--batch-size", "8", "--block-size", "16", "--set", "model.embed=32", "--set",
           "model.layers=2", "--set", "model.heads=2", "--set", "model.block_size=16",
           "--device", "cpu", "--no-progress", "--out", str(out))
    run = zoo.load(out, registry=registry)
    scores = run.score(run.documents("val"))
    evaluated = run.evaluate("val", progress=False)
    assert scores.tokens == evaluated["tokens"]
    assert scores.nats_per_token == pytest.approx(evaluated["loss"], abs=1e-5)


def test_a_split_the_dataset_lacks_is_one_line(registry, trained_run):
    with pytest.raises(ZooError, match="has no 'test' split"):
        zoo.load(trained_run, registry=registry).documents("test")


def test_zoo_score_per_token_and_its_mistakes(runner, registry, names_run, tmp_path):
    run = str(names_run / "run")
    shown = invoke(registry, "score", run, "--text", "abc", "--per-token")
    assert shown.splitlines()[0] == f"{run} (gru, 1 document)"
    assert "document 1: abc" in shown and "<|endoftext|>" in shown
    assert "total" in shown and "bits/char" in shown
    mistakes = {
        (): "give the files to score, or --text TEXT (not both)",
        ("--text", "a", str(names_run / "test.txt")): "not both",
        (str(tmp_path / "missing.txt"),): "missing.txt' does not exist",
        (str(tmp_path),): "is a directory",
        ("--text", ""): "nothing to score",
    }
    for arguments, message in mistakes.items():
        result = runner.invoke(cli, ["score", run, *arguments], obj=registry)
        assert message in one_line_error(result), arguments
    (tmp_path / "blank.txt").write_text("\n \n")
    result = runner.invoke(cli, ["score", run, str(tmp_path / "blank.txt"), "--documents",
                                 "line"], obj=registry)
    assert "hold no document to score (--documents line)" in one_line_error(result)


def test_inspect_adds_each_tokens_surprisal(registry, names_run, tmp_path):
    run = zoo.load(names_run / "run", registry=registry)
    inside = run.inspect("abca")
    scored = run.score("abca").documents[0]
    assert inside.tokens == ["<|endoftext|>", "a", "b", "c", "a"]
    values = inside.views["surprisal"]
    assert np.isnan(values[0])  # the context: nothing predicted it
    assert np.allclose(values[1:], scored.surprisal[:-1])  # the closing end is not read
    assert {"reset gate", "update gate", "surprisal"} <= set(inside.views)
    assert inside.to_dict()["views"]["surprisal"]["values"][0] is None  # JSON has no NaN
    titles = [axes.get_title() for axes in draw(inside).axes]
    assert "surprisal" in titles
    with pytest.raises(ZooError, match="give a text to read"):
        run.inspect("")


def test_an_architecture_without_views_still_shows_its_surprisal(registry, names_run,
                                                                 monkeypatch):
    run = zoo.load(names_run / "run", registry=registry)
    monkeypatch.setattr(type(run.model), "inspect", None)  # as a plugin without inspect()
    inside = run.inspect("abc")
    assert list(inside.views) == ["surprisal"] and inside.architecture == "gru"
    assert inside.tokens == ["<|endoftext|>", "a", "b", "c"]


def test_sample_interactive_continues_each_line_with_the_state_carried(runner, registry,
                                                                         names_run):
    run = str(names_run / "run")
    options = ["--seed", "0", "--max-new-tokens", "6", "--temperature", "0"]
    result = runner.invoke(cli, ["sample", run, "-i", *options], input="abc\nde\n\n",
                           obj=registry)
    assert result.exit_code == 0, result.output
    conversation = zoo.load(run, registry=registry).chat(user="", reply="", max_new_tokens=6,
                                                         temperature=0)
    first, second = conversation.say("abc"), conversation.say("de")
    # the terminal shows what was typed after each prompt, then the words and their continuation
    assert result.output == (f"Enter your prompt: abc\nabc{first}\n"
                             f"Enter your prompt: de\nde{second}\nEnter your prompt: \n")
    refused = runner.invoke(cli, ["sample", run, "-i", "--num-samples", "2"], obj=registry)
    assert "-i reads each prompt from the terminal: drop --num-samples" in one_line_error(
        refused)
