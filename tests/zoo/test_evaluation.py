"""`zoo eval` and `zoo compare`: full held-out evaluation, the comparison table and plot."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch.nn import functional as F

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.models.loading import load_run
from zoo.runs.run_directory import read_metrics


@pytest.mark.parametrize("longer", [1, 3], ids=["training windows", "--block-size 3x"])
def test_eval_json_matches_a_direct_computation(runner, registry, trained_run, small_corpus,
                                                longer):
    loaded = load_run(registry, trained_run)
    block = loaded.config.train.block_size * longer
    option = ["--block-size", str(block)] if longer > 1 else []
    result = runner.invoke(cli, ["eval", str(trained_run), "--json", *option], obj=registry)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["block_size"] == block
    text = small_corpus.read_text("utf-8")
    # the validation text is one document: end-of-text, the text, end-of-text
    end_of_text = loaded.tokenizer.special_tokens[loaded.tokenizer.end_of_text]
    val = torch.tensor([end_of_text, *loaded.tokenizer.encode(text[int(len(text) * 0.9):]),
                        end_of_text])
    windows = (len(val) - 1) // block
    inputs = val[: windows * block].view(windows, block)
    targets = val[1 : windows * block + 1].view(windows, block)
    with torch.no_grad():
        logits, _ = loaded.model(inputs)
    expected = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)).item()
    assert report["tokens"] == windows * block
    assert math.isclose(report["loss"], expected, rel_tol=1e-5)
    # bits per character: nats over every predicted token (the closing end of text too, not
    # the opening one, which is only read) per character of the text
    characters = len(text) - int(len(text) * 0.9)
    assert math.isclose(report["bits_per_char"],
                        expected / math.log(2) * (len(val) - 1) / characters, rel_tol=1e-5)
    assert report["architecture"] == "gru-tied" and report["step"] == 8


def test_eval_in_windows_longer_than_the_split_is_one_line(runner, registry, trained_run):
    result = runner.invoke(cli, ["eval", str(trained_run), "--block-size", "100000"],
                           obj=registry)
    assert "fewer than block_size + 1 = 100001; evaluate it in shorter windows" in (
        one_line_error(result))


def test_eval_text_output(runner, registry, trained_run):
    result = runner.invoke(cli, ["eval", str(trained_run)], obj=registry)
    assert result.exit_code == 0
    assert "bits/char" in result.output and "perplexity" in result.output


def test_compare_table_and_plot(runner, registry, trained_run, tmp_path):
    plot = tmp_path / "curves.png"
    result = runner.invoke(cli, ["compare", str(trained_run), str(trained_run), "--plot",
                                 str(plot), "--json"], obj=registry)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 2 and rows[0]["val_loss"] == rows[1]["val_loss"]
    assert rows[0]["parameters"] > 0 and rows[0]["sample_tokens_per_s"] > 0
    assert rows[0]["train_tokens_per_s"] > 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = runner.invoke(cli, ["compare", str(trained_run)], obj=registry).output
    assert table.splitlines()[0].split()[:4] == ["#", "run", "arch", "tokenizer"]


def test_compare_missing_run_is_a_clear_error(runner, registry, trained_run, tmp_path):
    result = runner.invoke(cli, ["compare", str(trained_run), str(tmp_path / "nope")],
                           obj=registry)
    assert "does not exist" in one_line_error(result)


def test_eval_of_a_split_the_dataset_lacks(runner, registry, trained_run):
    result = runner.invoke(cli, ["eval", str(trained_run), "--split", "test"], obj=registry)
    assert "dataset 'text' has no 'test' split; evaluate --split val" in one_line_error(result)


def test_eval_on_the_test_split_of_a_dataset_that_has_one(runner, registry, tmp_path,
                                                          tiny_run):
    """pytorch/examples' word language model reports test perplexity on WikiText-2."""
    raw = tmp_path / "wikitext"
    raw.mkdir()
    for split, words in [("train", "the king is dead . long live the king . "),
                         ("valid", "the queen is here . "), ("test", "long live the queen . ")]:
        (raw / f"wiki.{split}.raw").write_text(f" = {split} = \n\n {words * 40}\n")
    out = tmp_path / "run"
    trained = runner.invoke(cli, ["train", "gru-tied", "--dataset", "wikitext-2", "--set",
                                  f"dataset.path={raw}", "--tokenizer", "word",
                                  "--out", str(out), *tiny_run], obj=registry)
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(cli, ["eval", str(out), "--split", "test", "--json"], obj=registry)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    test_text = (raw / "wiki.test.raw").read_text()
    assert report["split"] == "test" and math.isfinite(report["perplexity"])
    assert report["tokens"] < len(test_text)  # word tokens of the test file, not its characters


def _line_corpus(folder, lines: int = 300):
    """A few hundred short lines of letters, one document each (makemore's names.txt)."""
    import random

    rng = random.Random(0)
    path = folder / "names.txt"
    path.write_text("".join("".join(rng.choice("abcdefgh") for _ in range(rng.randint(3, 9)))
                            + "\n" for _ in range(lines)), "utf-8")
    return path


@pytest.mark.parametrize("rows", ["packed", "padded"])
def test_training_records_zoo_evals_loss_for_a_small_validation_split(runner, registry, tmp_path,
                                                                      rows):
    """30 validation lines are a few batches: every evaluation while training covers them all,
    in zoo eval's windows, so the last recorded loss is the one zoo eval gives."""
    out = tmp_path / "run"
    trained = runner.invoke(cli, [
        "train", "bigram", "--data", str(_line_corpus(tmp_path)), "--set",
        "dataset.documents=line", "--set", f"dataset.rows={rows}", "--steps", "30",
        "--batch-size", "4", "--block-size", "8", "--device", "cpu", "--no-progress",
        "--set", "train.eval_interval=15", "--set", "train.eval_batches=1", "--out", str(out)],
        obj=registry)
    assert trained.exit_code == 0, trained.output
    recorded = [m for m in read_metrics(out) if m["split"] == "val"][-1]
    evaluated = runner.invoke(cli, ["eval", str(out), "--json"], obj=registry)
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.output)
    assert recorded["tokens"] == report["tokens"] > 4 * 8  # more than eval_batches' one batch
    assert recorded["loss"] == pytest.approx(report["loss"], abs=1e-5)
    assert recorded["accuracy"] == pytest.approx(report["accuracy"], abs=1e-9)


def test_zoo_eval_of_padded_rows_finds_the_document_windows_once(runner, registry, tmp_path,
                                                                  document_window_calls):
    out = tmp_path / "run"
    trained = runner.invoke(cli, [
        "train", "bigram", "--data", str(_line_corpus(tmp_path)), "--set",
        "dataset.documents=line", "--set", "dataset.rows=padded", "--steps", "2",
        "--batch-size", "4", "--block-size", "8", "--device", "cpu", "--no-progress",
        "--out", str(out)], obj=registry)
    assert trained.exit_code == 0, trained.output
    document_window_calls.clear()  # training's own: only zoo eval's are counted
    evaluated = runner.invoke(cli, ["eval", str(out), "--json"], obj=registry)
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["tokens"] > 0
    assert len(document_window_calls) == 1
