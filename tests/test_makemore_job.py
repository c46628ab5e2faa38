"""makemore's job end to end: names, one per row; samples end by themselves; novelty.

A transformer trains briefly on the ``names`` dataset with padded document
rows, then ``zoo sample --num-samples 20 --novelty`` must print 20 whole
names and the novelty figure, from PyTorch and from its ONNX export alike.
Then the run is fine-tuned on a few new names (``--init-from``).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli_errors import one_line_error
from docs_pages import page
from zoo.cli import cli

NAMES_RUN = [
    "--dataset", "names", "--steps", "60", "--batch-size", "32", "--block-size", "16",
    "--set", "model.embed=32", "--set", "model.layers=1", "--set", "model.heads=2",
    "--set", "model.block_size=16", "--set", "train.eval_interval=60",
    "--set", "train.eval_batches=2", "--device", "cpu", "--no-progress",
]


@pytest.fixture(scope="module")
def names_run(tmp_path_factory: pytest.TempPathFactory, registry) -> Path:
    out = tmp_path_factory.mktemp("makemore") / "names"
    result = CliRunner().invoke(cli, ["train", "transformer", "--out", str(out), *NAMES_RUN],
                                obj=registry)
    assert result.exit_code == 0, result.output
    return out


def whole_items(output: str) -> list[str]:
    """The samples ``zoo sample --num-samples N`` printed, one per ``--- sample k ---``."""
    parts = re.split(r"^--- sample \d+ ---\n", output, flags=re.MULTILINE)[1:]
    return [part.rstrip("\n").split("\nnovelty:")[0] for part in parts]


@pytest.mark.parametrize("backend", ["pytorch", "onnx"])
def test_twenty_whole_names_and_their_novelty(names_run, registry, tmp_path, backend):
    source = [str(names_run)]
    if backend == "onnx":
        export = tmp_path / "export"
        result = CliRunner().invoke(cli, ["export", str(names_run), "--onnx", "--out",
                                          str(export)], obj=registry)
        assert result.exit_code == 0, result.output
        source = ["--onnx", str(export)]
    result = CliRunner().invoke(cli, ["sample", *source, "--num-samples", "20", "--novelty",
                                      "--seed", "0", "--max-new-tokens", "40"], obj=registry)
    assert result.exit_code == 0, result.output
    items = whole_items(result.output)
    assert len(items) == 20
    # each one ended by itself (a briefly trained model may also end one at once):
    # never running on into a second name, nor to the 40-token limit
    assert all("\n" not in item and len(item) < 40 for item in items), items
    assert sum(bool(item) for item in items) >= 10, items
    match = re.search(r"novelty: (\d+) of 20 samples are new; (\d+) are in the training set, "
                      r"(\d+) in the validation set", result.output)
    assert match is not None, result.output
    assert sum(map(int, match.groups()[1:])) + int(match.group(1)) == 20


def test_pytorch_and_onnx_give_the_same_greedy_name(names_run, registry, tmp_path):
    export = tmp_path / "export"
    CliRunner().invoke(cli, ["export", str(names_run), "--onnx", "--out", str(export)],
                       obj=registry)
    texts = [CliRunner().invoke(cli, ["sample", *source, "--prompt", "ma", "--temperature", "0",
                                      "--max-new-tokens", "30"], obj=registry).output
             for source in ([str(names_run)], ["--onnx", str(export)])]
    assert texts[0] == texts[1] and texts[0].startswith("ma")


def test_ignore_eot_runs_to_the_token_limit(names_run, registry):
    result = CliRunner().invoke(cli, ["sample", str(names_run), "--ignore-eot", "--seed", "1",
                                      "--max-new-tokens", "30", "--prompt", "a"], obj=registry)
    assert result.exit_code == 0, result.output
    # the end-of-text tokens decode to nothing, so more than one name runs together
    assert len(result.output.rstrip("\n")) > 12


def test_fine_tuning_keeps_the_tokenizer_and_starts_from_the_weights(names_run, registry,
                                                                     tmp_path):
    new_names = tmp_path / "new.txt"
    new_names.write_text("\n".join(["zorro", "zelda", "zack", "zane", "zara", "zeke", "zoe",
                                    "zuri", "zion", "zena", "zola", "zeno"]) + "\n")
    common = ["--data", str(new_names), "--set", "dataset.documents=line",
              "--set", "dataset.rows=padded", "--steps", "2", "--block-size", "16",
              "--batch-size", "4", "--no-progress"]
    fine = tmp_path / "fine"
    result = CliRunner().invoke(cli, ["train", "transformer", "--init-from", str(names_run),
                                      "--out", str(fine), *common], obj=registry)
    assert result.exit_code == 0, result.output
    assert (fine / "tokenizer").is_dir()
    before = (names_run / "tokenizer").read_bytes() if (names_run / "tokenizer").is_file() \
        else sorted(p.read_bytes() for p in (names_run / "tokenizer").iterdir())
    after = sorted(p.read_bytes() for p in (fine / "tokenizer").iterdir())
    assert before == after  # the source run's tokenizer, not one trained on the new names
    # starting from the weights: a step at a vanishing learning rate leaves them as they were
    still = tmp_path / "still"
    result = CliRunner().invoke(cli, ["train", "transformer", "--init-from", str(names_run),
                                      "--out", str(still), *common, "--lr", "1e-12",
                                      "--set", "train.min_lr=0"],
                                obj=registry)
    assert result.exit_code == 0, result.output
    from safetensors.numpy import load_file

    source, started = load_file(names_run / "model.safetensors"), load_file(
        still / "model.safetensors")
    assert source.keys() == started.keys()
    assert all(np.allclose(source[k], started[k], atol=1e-6) for k in source)


def test_fine_tuning_another_architecture_is_one_line(names_run, registry, tmp_path):
    result = CliRunner().invoke(cli, ["train", "gru-tied", "--init-from", str(names_run),
                                      "--dataset", "names", "--out", str(tmp_path / "x")],
                                obj=registry)
    assert "is a 'transformer' run" in one_line_error(result)


def test_fine_tuning_a_resized_model_is_one_line(names_run, registry, tmp_path):
    result = CliRunner().invoke(cli, ["train", "transformer", "--init-from", str(names_run),
                                      "--dataset", "names", "--set", "model.embed=48",
                                      "--out", str(tmp_path / "x"), "--block-size", "16"],
                                obj=registry)
    assert "weights do not fit this model" in one_line_error(result)


@pytest.mark.parametrize("backend", ["pytorch", "onnx"])
def test_a_stop_string_ends_every_sample_before_it(names_run, registry, tmp_path, backend):
    source = [str(names_run)]
    if backend == "onnx":
        CliRunner().invoke(cli, ["export", str(names_run), "--onnx", "--out",
                                 str(tmp_path / "e")], obj=registry)
        source = ["--onnx", str(tmp_path / "e")]
    common = ["--num-samples", "12", "--seed", "3", "--max-new-tokens", "30", "--ignore-eot"]
    free = whole_items(CliRunner().invoke(cli, ["sample", *source, *common],
                                          obj=registry).output)
    result = CliRunner().invoke(cli, ["sample", *source, *common, "--stop", "a", "--stop", "e"],
                                obj=registry)
    assert result.exit_code == 0, result.output
    stopped = whole_items(result.output)
    # the same draws, each cut just before its first 'a' or 'e'
    assert stopped == [re.split("[ae]", text)[0] for text in free]


def made_up_names(count: int, seed: int) -> list[str]:
    """``count`` pronounceable names, one a line, as a user's names.txt might hold."""
    rng = np.random.default_rng(seed)
    onsets, vowels = ["b", "d", "k", "l", "m", "n", "r", "s", "t", "v", "z"], list("aeiouy")
    return ["".join(rng.choice(onsets) + rng.choice(vowels)
                    for _ in range(int(rng.integers(2, 4)))) for _ in range(count)]


@pytest.mark.slow
def test_makemore_workflow_on_your_own_files(registry, tmp_path):
    """The issue's makemore workflow, with README's commands and nothing internal: train on
    train.txt for a time budget with test.txt held out, evaluate, score test.txt, sample."""
    (tmp_path / "train.txt").write_text("\n".join(made_up_names(600, 0)) + "\n", "utf-8")
    (tmp_path / "test.txt").write_text("\n".join(made_up_names(80, 1)) + "\n", "utf-8")
    run = tmp_path / "run"

    def zoo(*argv: str) -> str:
        result = CliRunner().invoke(cli, list(argv), obj=registry)
        assert result.exit_code == 0, result.output
        return result.output

    trained = zoo("train", "transformer", "--data", str(tmp_path / "train.txt"),
                  "--val-data", str(tmp_path / "test.txt"), "--set", "dataset.documents=line",
                  "--max-seconds", "4", "--out", str(run), "--batch-size", "16",
                  "--set", "model.embed=32", "--set", "model.layers=1", "--set", "model.heads=2",
                  "--device", "cpu", "--no-progress")
    assert "the 4 s budget ended it" in trained  # not the 1,200 steps of a run without one
    evaluation = json.loads(zoo("eval", str(run), "--json"))
    scored = json.loads(zoo("score", str(run), str(tmp_path / "test.txt"), "--documents", "line",
                            "--json"))
    total = scored["total"]
    assert total["documents"] == 80 and total["tokens"] == evaluation["tokens"]
    assert math.isclose(total["nats_per_token"], evaluation["loss"], rel_tol=1e-5)
    assert math.isclose(total["bits_per_char"], evaluation["bits_per_char"], rel_tol=1e-5)
    sampled = zoo("sample", str(run), "--num-samples", "50", "--novelty", "--seed", "0")
    assert re.search(r"^novelty: \d+ of 50 samples are new", sampled, re.MULTILINE), sampled


@pytest.mark.slow
def test_the_python_api_workflow_on_the_docs_page_runs(tmp_path, monkeypatch, capsys):
    """docs/python-api.md's "Your own data" block, as written but for a 4-second budget."""
    (tmp_path / "train.txt").write_text("\n".join(made_up_names(600, 0)) + "\n", "utf-8")
    (tmp_path / "test.txt").write_text("\n".join(made_up_names(80, 1)) + "\n", "utf-8")
    [code] = [block for block in re.findall(r"```python\n(.*?)```", page("python-api.md"),
                                           re.DOTALL) if 'val_data="test.txt"' in block]
    assert "max_seconds=120" in code
    monkeypatch.chdir(tmp_path)
    exec(compile(code.replace("max_seconds=120", "max_seconds=4"), "python-api.md", "exec"),
         {"__name__": "docs_example"})
    printed = capsys.readouterr().out.splitlines()
    ended_by, steps = printed[0].split()
    assert ended_by == "budget" and int(steps) > 0
    scored, evaluated = map(float, printed[1].split())
    assert math.isclose(scored, evaluated, rel_tol=1e-5)
    assert printed[2].startswith("novelty: ")
