"""The command examples of docs/cli.md (README's commands, in full), run as written on what a
fresh clone has (the fast ones)."""

from __future__ import annotations

import re
import shutil

import pytest

from cli_errors import one_line_error
from docs_pages import fenced_block
from zoo.cli import cli
from zoo.runs.run_directory import read_config


def block_starting(first_line: str, language: str = "text") -> str:
    """The body of docs/cli.md's fenced block whose first line starts with ``first_line``."""
    return fenced_block("cli.md", first_line, language)


def test_zoo_list_example_is_what_zoo_list_prints(runner, registry):
    example = block_starting("$ zoo list").removeprefix("$ zoo list\n")
    result = runner.invoke(cli, ["list"], obj=registry)
    assert result.exit_code == 0
    assert result.output == example


def test_mistyped_key_example_is_the_line_zoo_prints(runner, registry, tmp_path, monkeypatch):
    command = "$ zoo train gru-tied --set model.hiden=512"
    example = block_starting(command).removeprefix(command + "\n").strip()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["train", "gru-tied", "--set", "model.hiden=512"], obj=registry)
    assert one_line_error(result) == example
    assert not any(tmp_path.iterdir())  # nothing was made


def test_run_toml_example_trains_as_written(runner, registry, tmp_path, monkeypatch):
    """`zoo train gru-tied --config run.toml`, cut to two small steps on the CPU."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.toml").write_text(block_starting("# run.toml", "toml"), "utf-8")
    result = runner.invoke(cli, [
        "train", "gru-tied", "--config", "run.toml", "--out", "runs/toml", "--steps", "2",
        "--batch-size", "2", "--block-size", "16", "--device", "cpu", "--no-progress",
        "--set", "train.eval_batches=1"], obj=registry)
    assert result.exit_code == 0, result.output
    config = read_config(tmp_path / "runs" / "toml")
    assert (config["model"]["hidden"], config["train"]["lr"]) == (384, 2e-3)
    assert (config["tokenizer"]["name"], config["tokenizer"]["vocab_size"]) == ("bpe", 512)
    assert (config["dataset"]["name"], config["dataset"]["val_fraction"]) == (
        "tinyshakespeare", 0.05)


def _shape(text: str) -> list[str]:
    """Lines with every number replaced by N: what stays the same from run to run."""
    return [re.sub(r"\d[\d,.e+-]*", "N", line) for line in text.splitlines()]


def test_eval_example_has_the_lines_zoo_eval_prints(runner, registry, trained_run):
    example = block_starting("$ zoo eval runs/gru-tied-20261122-010203")
    example = example.split("\n", 1)[1].replace("runs/gru-tied-20261122-010203", "RUN")
    result = runner.invoke(cli, ["eval", str(trained_run)], obj=registry)
    assert result.exit_code == 0, result.output
    assert _shape(result.output.replace(str(trained_run), "RUN")) == _shape(example)


def test_data_stats_example_is_what_zoo_prints(runner, registry):
    command = "$ zoo data stats names --top 4"
    example = block_starting(command).removeprefix(command + "\n")
    result = runner.invoke(cli, command.split()[2:], obj=registry)
    assert result.exit_code == 0, result.output
    assert result.stdout == example


@pytest.mark.parametrize("exporter", ["onnx", "web"])
def test_export_example_has_the_lines_zoo_export_prints(runner, registry, trained_run,
                                                       tmp_path, exporter):
    """`zoo export RUN --onnx` (and `--web`) into the run, as docs/cli.md shows, on a copy of a
    run."""
    documented_run = "runs/gru-tied-20261122-010203"
    command = f"$ zoo export {documented_run} --{exporter}"
    example = block_starting(command).split("\n$ ", 1)[0]  # up to the next command, if any
    example = example.split("\n", 1)[1].replace(documented_run, "RUN")
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    result = runner.invoke(cli, ["export", str(run), f"--{exporter}"], obj=registry)
    assert result.exit_code == 0, result.output
    assert _shape(result.output.replace(str(run), "RUN")) == _shape(example)
    assert (run / exporter / "manifest.json").is_file()  # the default --out is RUN/EXPORTER
