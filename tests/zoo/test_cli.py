"""The command line: help for every command, `zoo list`, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from zoo import __version__
from zoo.cli import cli
from zoo.registry import load_registry

COMMANDS = [[], ["list"], ["train"], ["sample"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "zoo")
def test_every_command_has_help(runner, registry, command):
    result = runner.invoke(cli, [*command, "--help"], obj=registry)
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_list_shows_builtins_with_their_distribution(runner, registry):
    result = runner.invoke(cli, ["list"], obj=registry)
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if " gru-tied " in line)
    assert line.startswith("architecture") and f"zoo-lm {__version__}" in line


def test_list_json_filters_by_kind_and_pattern(runner, registry):
    result = runner.invoke(cli, ["list", "--json", "--kind", "dataset"], obj=registry)
    listing = json.loads(result.output)
    assert {c["kind"] for c in listing["components"]} == {"dataset"}
    assert {"tinyshakespeare", "text"} <= {c["name"] for c in listing["components"]}
    result = runner.invoke(cli, ["list", "--json", "gru-t*"], obj=registry)
    [component] = json.loads(result.output)["components"]
    assert component["name"] == "gru-tied"
    assert component["distribution"] == "zoo-lm"
    assert component["config"]["hidden"] > 0


def test_list_shows_broken_plugins_without_failing(runner, make_plugin):
    registry = load_registry(
        [make_plugin("broken-one", "raise ImportError('missing dep')")], disabled=set()
    )
    result = runner.invoke(cli, ["list"], obj=registry)
    assert result.exit_code == 0
    assert "broken plugins:" in result.output and "missing dep" in result.output
    listing = json.loads(runner.invoke(cli, ["list", "--json"], obj=registry).output)
    assert listing["broken"][0]["plugin"] == "broken-one"


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["list", "--json"], ["train", "--help"],
                                  ["sample", "--help"]])
def test_help_and_list_never_import_torch(argv):
    code = (
        "import sys\nfrom zoo.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_python_dash_m_zoo_runs():
    result = subprocess.run([sys.executable, "-m", "zoo", "--version"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and __version__ in result.stdout


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unknown_architecture(runner, registry):
    line = _one_line_error(runner.invoke(cli, ["train", "gruu"], obj=registry))
    assert line.startswith("error: no architecture 'gruu'; available: ") and "gru-tied" in line


def test_bad_set_key(runner, registry, small_corpus, tmp_path):
    result = runner.invoke(
        cli, ["train", "gru-tied", "--data", str(small_corpus), "--set", "model.hiden=9",
              "--out", str(tmp_path / "run")], obj=registry)
    line = _one_line_error(result)
    assert "unknown key 'model.hiden'" in line and "valid keys: embed, hidden" in line
    assert not (tmp_path / "run").exists()


def test_unknown_tokenizer(runner, registry):
    line = _one_line_error(runner.invoke(cli, ["train", "gru-tied", "--tokenizer", "wordz"],
                                         obj=registry))
    assert f"no tokenizer 'wordz'; available: {', '.join(registry.names('tokenizer'))}" in line


def test_missing_run_directory(runner, registry, tmp_path):
    line = _one_line_error(runner.invoke(cli, ["sample", str(tmp_path / "nope")], obj=registry))
    assert "does not exist" in line


def test_directory_that_is_not_a_run(runner, registry, tmp_path):
    line = _one_line_error(runner.invoke(cli, ["sample", str(tmp_path)], obj=registry))
    assert "is not a zoo run" in line


def test_existing_output_directory_is_never_overwritten(runner, registry, small_corpus, tmp_path,
                                                       tiny_run):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    result = runner.invoke(
        cli, ["train", "gru-tied", "--data", str(small_corpus), "--out", str(out), *tiny_run],
        obj=registry)
    assert "already exists" in _one_line_error(result)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_corpus_too_small_for_one_window(runner, registry, tmp_path, tiny_run):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("hello world\n" * 2)
    result = runner.invoke(
        cli, ["train", "gru-tied", "--data", str(corpus), "--out", str(tmp_path / "r"),
              *tiny_run], obj=registry)
    assert "fewer than block_size + 1" in _one_line_error(result)
