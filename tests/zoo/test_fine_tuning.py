"""Fine-tuning (train.init_from) takes the source run's model and tokenizer however it is asked."""

from __future__ import annotations

import json

import pytest

import zoo
from zoo.cli import cli

SMALL_STEPS = ["--steps", "2", "--batch-size", "4", "--block-size", "16", "--device", "cpu",
               "--set", "train.eval_batches=1", "--set", "train.warmup_steps=1", "--no-progress"]


def _sections(run_dir):
    config = json.loads((run_dir / "config.json").read_text("utf-8"))
    return config["model"], config["tokenizer"]


@pytest.mark.parametrize("how", ["--init-from", "--set", "config file"])
def test_every_way_of_naming_the_source_run_keeps_its_model_and_tokenizer(
        runner, registry, trained_run, small_corpus, tmp_path, how):
    """`--set train.init_from=RUN` and `[train] init_from` once kept the default model and
    tokenizer sections while copying the source's tokenizer files: a run that cannot load."""
    ways = {
        "--init-from": ["--init-from", str(trained_run)],
        "--set": ["--set", f"train.init_from={trained_run}"],
        "config file": ["--config", str(tmp_path / "run.toml")],
    }
    (tmp_path / "run.toml").write_text(f"[train]\ninit_from = {str(trained_run)!r}\n", "utf-8")
    out = tmp_path / "fine"
    result = runner.invoke(cli, ["train", "gru-tied", "--data", str(small_corpus),
                                 "--out", str(out), *ways[how], *SMALL_STEPS], obj=registry)
    assert result.exit_code == 0, result.output
    assert _sections(out) == _sections(trained_run)
    assert json.loads((out / "config.json").read_text())["train"]["init_from"] == str(trained_run)
    tokenizer_files = sorted(p.name for p in (trained_run / "tokenizer").iterdir())
    assert sorted(p.name for p in (out / "tokenizer").iterdir()) == tokenizer_files
    [text] = zoo.load(out).sample("ROMEO:", max_new_tokens=5, seed=0)  # it loads and samples
    assert text.startswith("ROMEO:")
