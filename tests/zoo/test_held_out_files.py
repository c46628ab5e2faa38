"""Validation and test files from ``zoo train`` and ``zoo.train``, and what old runs recorded.

``--val-data`` and ``--test-data`` become the dataset's ``val_path`` and ``test_path``,
stated as absolute paths in the run's ``config.json``; ``zoo eval --split test`` scores the
test file. A run recorded before ``dataset.shuffle`` existed keeps its unshuffled split.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.config.run import RunConfig, build_run_config, config_layers
from zoo.errors import ZooError
from zoo.registry.factory import build_dataset


def _lines(path: Path, items: list[str]) -> Path:
    path.write_text("".join(f"{item}\n" for item in items), "utf-8")
    return path


# -- the layers a new run is built from ------------------------------------------------------------

def test_held_out_files_become_absolute_val_and_test_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a.txt", "test.txt"):
        (tmp_path / name).write_text("text\n")
    layers = config_layers("bigram", data="train.txt", val_data=["a.txt", "b/*.txt"],
                           test_data=Path("test.txt"))
    assert layers["dataset"] == {
        "name": "text", "path": [str(tmp_path / "train.txt")],
        "val_path": [str(tmp_path / "a.txt"), str(tmp_path / "b" / "*.txt")],
        "test_path": [str(tmp_path / "test.txt")],
    }


def test_a_config_files_text_settings_stay_beside_data(tmp_path):
    test = _lines(tmp_path / "x.txt", ["x"])
    config = {"dataset": {"name": "text", "documents": "line", "val_path": ["/v.txt"]}}
    layers = config_layers("bigram", data="/t.txt", config=config)
    assert layers["dataset"] == {"name": "text", "documents": "line", "path": ["/t.txt"],
                                 "val_path": ["/v.txt"]}
    # another dataset's settings do not apply to the text files --data names
    other = config_layers("bigram", data="/t.txt", test_data=test,
                          config={"dataset": {"name": "names", "kind": "last"}})
    assert other["dataset"] == {"name": "text", "path": ["/t.txt"], "test_path": [str(test)]}


def test_jsonl_takes_held_out_files_too(registry, tmp_path):
    val = _lines(tmp_path / "v.jsonl", ['{"text": "v"}'])
    layers = config_layers("bigram", dataset="jsonl", val_data=val,
                           config={"dataset": {"path": ["/t.jsonl"]}})
    config = build_run_config(registry, layers).dataset
    assert (config.name, config.config.val_path, config.config.path) == (
        "jsonl", [str(val)], ["/t.jsonl"])


def test_held_out_files_without_training_files_is_one_line(tmp_path):
    with pytest.raises(ZooError) as caught:
        config_layers("bigram", test_data=_lines(tmp_path / "test.txt", ["t"]))
    assert str(caught.value).endswith("give its training files too: --data FILE, or "
                                      "--dataset jsonl --set dataset.path=FILE")


def test_a_mistyped_test_file_is_caught_before_training(runner, registry, tmp_path):
    # the test split is read only by zoo eval --split test: training would not notice
    train = _lines(tmp_path / "train.txt", ["a", "b", "c"])
    result = runner.invoke(cli, ["train", "bigram", "--data", str(train), "--test-data",
                                 str(tmp_path / "tset.txt"), "--out", str(tmp_path / "run")],
                           obj=registry)
    assert one_line_error(result) == (
        f"error: --test-data {str(tmp_path / 'tset.txt')!r} does not exist; check the path")
    assert not (tmp_path / "run").exists()


def test_resume_refuses_held_out_files(runner, registry, tmp_path):
    result = runner.invoke(cli, ["train", "bigram", "--resume", str(tmp_path / "run"),
                                 "--val-data", "v.txt", "--test-data", "t.txt"], obj=registry)
    assert "drop --val-data, --test-data (only --steps, --device and --threads may change)" in \
        one_line_error(result)


# -- runs recorded before dataset.shuffle --------------------------------------------------------

@pytest.fixture
def sorted_names(tmp_path: Path) -> Path:
    return _lines(tmp_path / "names.txt", [f"name{i:03d}" for i in range(100)])


def _recorded(path: Path) -> dict:
    """A run's config.json as zoo wrote it before dataset.shuffle, seed, val_path, test_path."""
    return {
        "format_version": 1, "zoo_version": "0.1.0", "vocab_size": 40,
        "model": {"name": "bigram"}, "tokenizer": {"name": "char"},
        "dataset": {"name": "text", "path": [str(path)], "val_fraction": 0.1,
                    "documents": "line", "rows": "padded"},
        "train": {"steps": 10},
    }


def test_an_old_run_without_shuffle_keeps_its_split(registry, sorted_names):
    raw = _recorded(sorted_names)
    loaded = RunConfig.from_dict(registry, raw)  # how zoo eval and zoo.load read config.json
    resumed = build_run_config(registry, raw)  # how --resume reads it
    for config in (loaded, resumed):
        assert config.dataset.config.shuffle is False
        assert build_dataset(registry, config.dataset).texts("val") == [
            f"name{i:03d}" for i in range(90, 100)]
    # the same settings in a new run shuffle the lines, and the run records that it does
    new = build_run_config(registry, {section: values for section, values in raw.items()
                                      if section in ("model", "tokenizer", "dataset")})
    assert new.dataset.config.shuffles()
    assert build_dataset(registry, new.dataset).texts("val") != [
        f"name{i:03d}" for i in range(90, 100)]
    assert RunConfig.from_dict(registry, {**new.to_dict(), "vocab_size": 40}) == new


def test_a_recorded_shuffle_is_kept(registry, sorted_names):
    raw = _recorded(sorted_names)
    raw["dataset"].update(shuffle=True, seed=5)
    config = RunConfig.from_dict(registry, raw).dataset.config
    assert (config.shuffle, config.seed) == (True, 5)


# -- training on a file and scoring its held-out files -------------------------------------------

def _eval(runner, registry, run: Path, *split: str) -> dict:
    result = runner.invoke(cli, ["eval", str(run), *split, "--json", "--no-progress"],
                           obj=registry)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _predicted(items: list[str]) -> int:
    """What zoo eval predicts of padded one-line documents under char: each character, and
    the end of text after each one."""
    return sum(len(item) + 1 for item in items)


@pytest.mark.slow
def test_zoo_eval_scores_exactly_the_validation_and_test_files(runner, registry, tmp_path,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    train = [alphabet[i % 26: i % 26 + 3 + i % 5] for i in range(200)]
    val, test = ["anna", "bob", "carol", "dave"], ["erin", "frank", "grace", "heidi", "ivan"]
    for name, items in (("train.txt", train), ("val.txt", val), ("test.txt", test)):
        _lines(tmp_path / name, items)
    run = tmp_path / "run"
    result = runner.invoke(cli, [
        "train", "bigram", "--data", "train.txt", "--val-data", "val.txt", "--test-data",
        "test.txt", "--set", "dataset.documents=line", "--set", "dataset.rows=padded",
        "--steps", "4", "--batch-size", "8", "--block-size", "16", "--device", "cpu",
        "--set", "train.eval_interval=4", "--no-progress", "--out", str(run)], obj=registry)
    assert result.exit_code == 0, result.output

    dataset = json.loads((run / "config.json").read_text())["dataset"]
    assert (dataset["val_path"], dataset["test_path"]) == (
        [str(tmp_path / "val.txt")], [str(tmp_path / "test.txt")])
    assert _eval(runner, registry, run)["tokens"] == _predicted(val)
    scored = _eval(runner, registry, run, "--split", "test")
    assert (scored["split"], scored["tokens"]) == ("test", _predicted(test))
    # all of train.txt trained: none of it was held out for validation
    assert _eval(runner, registry, run, "--split", "train")["tokens"] == _predicted(train)

    # on another machine, without the test file: one line naming it, as the run stated it
    shutil.move(tmp_path / "test.txt", tmp_path / "moved.txt")
    result = runner.invoke(cli, ["eval", str(run), "--split", "test"], obj=registry)
    assert one_line_error(result).endswith(
        f"text file {str(tmp_path / 'test.txt')!r} does not exist")

    # a run given no test file has no test split, and says so
    dataset_values = json.loads((run / "config.json").read_text())
    dataset_values["dataset"]["test_path"] = []
    (run / "config.json").write_text(json.dumps(dataset_values))
    result = runner.invoke(cli, ["eval", str(run), "--split", "test"], obj=registry)
    assert "dataset 'text' has no 'test' split" in one_line_error(result)


@pytest.mark.slow
def test_a_test_file_too_short_for_a_packed_window_is_one_line(runner, registry, tmp_path):
    """Training never reads the test split, so zoo eval checks its length: "hi\\n" and the
    end of text on both sides are 5 tokens."""
    _lines(tmp_path / "train.txt", ["the quick brown fox jumps over the lazy dog"] * 20)
    _lines(tmp_path / "test.txt", ["hi"])
    run = tmp_path / "run"
    result = runner.invoke(cli, [
        "train", "bigram", "--data", str(tmp_path / "train.txt"), "--test-data",
        str(tmp_path / "test.txt"), "--set", "dataset.documents=whole", "--steps", "2",
        "--batch-size", "2", "--block-size", "16", "--device", "cpu", "--no-progress",
        "--out", str(run)], obj=registry)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["eval", str(run), "--split", "test"], obj=registry)
    assert result.exit_code == 2
    assert one_line_error(result) == (
        "error: the test split has 5 tokens, fewer than block_size + 1 = 17; give it more "
        "text, or train with --set dataset.rows=padded")
