"""Samples while training: recorded by step, shown, and leaving the training itself alone."""

from __future__ import annotations

import json

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.runs.run_directory import read_metrics


def train(runner, registry, corpus, out, tiny_run, *extra):
    return runner.invoke(cli, ["train", "gru-tied", "--data", str(corpus), "--out", str(out),
                               *tiny_run, *extra], obj=registry)


def test_samples_are_recorded_by_step_and_shown(runner, registry, small_corpus, tmp_path,
                                                tiny_run):
    out = tmp_path / "run"
    result = train(runner, registry, small_corpus, out, tiny_run,
                   "--sample-every", "4", "--set", "train.sample_prompt=ROMEO:",
                   "--set", "train.sample_tokens=12")
    assert result.exit_code == 0, result.output
    samples = [m for m in read_metrics(out) if m["split"] == "sample"]
    assert [m["step"] for m in samples] == [4, 8]
    assert all(m["prompt"] == "ROMEO:" and 0 < len(m["text"]) <= 12 for m in samples)
    assert "--- sample at step 4 ---\nROMEO:" in result.output
    shown = runner.invoke(cli, ["show", str(out), "--samples"], obj=registry)
    assert shown.exit_code == 0, shown.output
    assert f"--- step 8 ---\nROMEO:{samples[1]['text']}" in shown.output
    assert "gru-tied" in shown.output


def test_sampling_while_training_changes_nothing_the_run_learns(runner, registry, small_corpus,
                                                                 tmp_path, tiny_run):
    plain, sampled = tmp_path / "plain", tmp_path / "sampled"
    assert train(runner, registry, small_corpus, plain, tiny_run).exit_code == 0
    assert train(runner, registry, small_corpus, sampled, tiny_run,
                 "--set", "train.sample_every=2").exit_code == 0

    def losses(run):
        return [(m["step"], m["split"], m["loss"]) for m in read_metrics(run) if "loss" in m]

    assert losses(plain) == losses(sampled)


def test_a_sample_prompt_the_tokenizer_cannot_encode_fails_before_training(
        runner, registry, small_corpus, tmp_path, tiny_run):
    out = tmp_path / "run"
    result = train(runner, registry, small_corpus, out, tiny_run,
                   "--set", "train.sample_every=4", "--set", "train.sample_prompt=中")
    assert "cannot represent ('中')" in one_line_error(result)
    assert not out.exists()


def test_show_without_samples_says_how_to_record_them(runner, registry, trained_run):
    result = runner.invoke(cli, ["show", str(trained_run), "--samples"], obj=registry)
    assert result.exit_code == 0, result.output
    assert "train.sample_every=N" in result.output
    config = json.loads((trained_run / "config.json").read_text())
    assert config["train"]["sample_every"] == 0
