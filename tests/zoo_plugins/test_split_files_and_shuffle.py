"""``text`` and ``jsonl``: validation and test files of their own, and shuffled documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_errors import one_line_zoo_error
from zoo.config.values import InvalidValue, apply_values
from zoo.errors import ZooError
from zoo.testing import check_dataset
from zoo_plugins.datasets.jsonl import JsonlConfig, JsonlDataset
from zoo_plugins.datasets.splits import shuffled
from zoo_plugins.datasets.text import TextConfig, TextDataset


def _lines(path: Path, items: list[str]) -> str:
    path.write_text("".join(f"{item}\n" for item in items), "utf-8")
    return str(path)


def _records(path: Path, items: list[str]) -> str:
    path.write_text("".join(json.dumps({"text": item}) + "\n" for item in items), "utf-8")
    return str(path)



@pytest.fixture
def names(tmp_path: Path) -> dict[str, str]:
    """A train, a validation and a test file of names, one a line, each with its own names."""
    return {
        "train": _lines(tmp_path / "train.txt", [f"train{i}" for i in range(30)]),
        "val": _lines(tmp_path / "val.txt", ["vera", "vince", "viola"]),
        "test": _lines(tmp_path / "test.txt", ["tess", "theo"]),
    }


# -- validation and test files -------------------------------------------------------------------

def test_line_files_give_each_split_its_own_file(names):
    dataset = TextDataset(TextConfig(path=[names["train"]], val_path=[names["val"]],
                                     test_path=[names["test"]], documents="line"))
    # all of path trains (shuffled: lines are shuffled by default), nothing held out of it
    assert sorted(dataset.texts("train")) == sorted(f"train{i}" for i in range(30))
    assert dataset.texts("val") == ["vera", "vince", "viola"]  # held-out files keep their order
    assert dataset.texts("test") == ["tess", "theo"]
    check_dataset(TextDataset, dataset.config)


def test_whole_files_are_one_text_each_split(tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("To be, or not to be\n" * 20, "utf-8")
    val = tmp_path / "val.txt"
    val.write_text("that is the question", "utf-8")
    dataset = TextDataset(TextConfig(path=[str(train)], val_path=[str(val)],
                                     test_path=[str(val), str(val)]))
    assert dataset.texts("train") == [train.read_text("utf-8")]  # no 10% held out
    assert dataset.texts("val") == ["that is the question"]
    assert dataset.texts("test") == ["that is the question\nthat is the question"]


def test_test_files_alone_keep_the_fraction_split(names):
    dataset = TextDataset(TextConfig(path=[names["train"]], test_path=[names["test"]],
                                     documents="line", shuffle=False))
    assert dataset.texts("train") == [f"train{i}" for i in range(27)]
    assert dataset.texts("val") == [f"train{i}" for i in range(27, 30)]
    assert dataset.texts("test") == ["tess", "theo"]


@pytest.mark.parametrize("documents", ["whole", "line"])
def test_without_test_files_there_is_no_test_split(names, documents):
    dataset = TextDataset(TextConfig(path=[names["train"]], val_path=[names["val"]],
                                     documents=documents))
    with pytest.raises(KeyError):
        dataset.texts("test")
    jsonl = JsonlDataset(JsonlConfig(path=[names["train"]]))
    with pytest.raises(KeyError):
        jsonl.texts("test")


def test_a_split_reads_only_its_own_files(names, tmp_path):
    # zoo eval --split test on another machine: only the test file need be there
    dataset = TextDataset(TextConfig(path=[str(tmp_path / "gone.txt")],
                                     val_path=[str(tmp_path / "gone-too.txt")],
                                     test_path=[names["test"]], documents="line"))
    assert dataset.texts("test") == ["tess", "theo"]
    assert "gone.txt' does not exist" in one_line_zoo_error(lambda: dataset.texts("train"))
    assert "gone-too.txt' does not exist" in one_line_zoo_error(lambda: dataset.texts("val"))


def test_a_missing_test_file_is_named(names, tmp_path):
    missing = str(tmp_path / "elsewhere" / "test.txt")
    dataset = TextDataset(TextConfig(path=[names["train"]], test_path=[missing]))
    message = one_line_zoo_error(lambda: dataset.texts("test"))
    assert message == f"text file {missing!r} does not exist"
    glob = str(tmp_path / "*.nope")
    dataset = TextDataset(TextConfig(path=[names["train"]], val_path=[glob]))
    assert one_line_zoo_error(lambda: dataset.texts("val")) == (
        f"no files match {glob!r}; check dataset.val_path")


@pytest.mark.parametrize("documents", ["whole", "line"])
def test_an_empty_held_out_file_is_one_line(names, tmp_path, documents):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", "utf-8") if documents == "line" else empty.write_text("")
    dataset = TextDataset(TextConfig(path=[names["train"]], test_path=[str(empty)],
                                     documents=documents))
    assert one_line_zoo_error(lambda: dataset.texts("test")) == (
        f"dataset.test_path (1 file(s)) with dataset.documents={documents} gives no text; "
        "check the files dataset.test_path names")


def test_jsonl_takes_validation_and_test_files(tmp_path):
    train = _records(tmp_path / "train.jsonl", [f"story {i}" for i in range(12)])
    val = _records(tmp_path / "val.jsonl", ["held out", "also held out"])
    test = _records(tmp_path / "test.jsonl", ["tested"])
    dataset = JsonlDataset(JsonlConfig(path=[train], val_path=[val], test_path=[test]))
    assert sorted(dataset.texts("train")) == sorted(f"story {i}" for i in range(12))
    assert dataset.texts("val") == ["held out", "also held out"]
    assert dataset.texts("test") == ["tested"]
    check_dataset(JsonlDataset, dataset.config)
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"text": ""}) + "\n")
    dataset = JsonlDataset(JsonlConfig(path=[train], val_path=[str(empty)]))
    assert one_line_zoo_error(lambda: dataset.texts("val")).startswith(
        "dataset.val_path (1 file(s), field 'text') gives no text")


# -- shuffled documents ------------------------------------------------------------------------

@pytest.fixture
def sorted_file(tmp_path: Path) -> str:
    """1,000 names sorted as names.txt is, most popular first: the order matters."""
    return _lines(tmp_path / "names.txt", [f"name{i:04d}" for i in range(1000)])


def _split(path: str, **options) -> dict[str, list[str]]:
    dataset = TextDataset(TextConfig(path=[path], documents="line", **options))
    return {split: dataset.texts(split) for split in ("train", "val")}


def test_the_same_seed_gives_the_same_split_and_another_seed_another(sorted_file):
    first, again = _split(sorted_file, seed=7), _split(sorted_file, seed=7)
    assert first == again
    other = _split(sorted_file, seed=8)
    assert set(other["val"]) != set(first["val"])
    for split in (first, other):  # every name once, none lost, none in both splits
        assert sorted(split["train"] + split["val"]) == [f"name{i:04d}" for i in range(1000)]
        assert len(split["val"]) == 100


def test_the_shuffled_validation_split_holds_names_from_the_whole_file(sorted_file):
    positions = sorted(int(name[4:]) for name in _split(sorted_file)["val"])
    assert positions[0] < 100 and positions[-1] >= 900  # not only the tail, as unshuffled
    assert len({p // 100 for p in positions}) == 10  # some from every tenth of the file
    in_order = _split(sorted_file, shuffle=False)["val"]
    assert in_order == [f"name{i:04d}" for i in range(900, 1000)]


def test_the_order_is_pinned_for_a_seed():
    # a run records its seed, not its split: this order must never change, or old runs
    # would evaluate on another split than the one they trained on
    assert shuffled([str(i) for i in range(8)], 3407) == ["5", "1", "2", "0", "6", "7", "4", "3"]
    assert shuffled([], 1) == []


@pytest.mark.parametrize(("documents", "shuffles"), [
    ("line", True), ("paragraph", True), ("file", False), ("whole", False),
])
def test_lines_and_paragraphs_are_shuffled_by_default(documents, shuffles):
    config = TextConfig(path=["x.txt"], documents=documents)
    assert config.shuffle is None and config.shuffles() is shuffles
    assert JsonlConfig().shuffle is True
    if documents != "whole":
        assert TextConfig(path=["x"], documents=documents, shuffle=not shuffles).shuffles() \
            is not shuffles


def test_paragraphs_are_shuffled_whole(tmp_path):
    path = tmp_path / "poems.txt"
    path.write_text("".join(f"poem {i} line 1\npoem {i} line 2\n\n" for i in range(20)))
    dataset = TextDataset(TextConfig(path=[str(path)], documents="paragraph"))
    documents = dataset.texts("train") + dataset.texts("val")
    assert sorted(documents) == sorted(f"poem {i} line 1\npoem {i} line 2" for i in range(20))
    assert documents != sorted(documents, key=lambda d: int(d.split()[1]))


def test_jsonl_records_are_shuffled_by_the_seed(tmp_path):
    path = _records(tmp_path / "r.jsonl", [f"record {i}" for i in range(50)])
    default = JsonlDataset(JsonlConfig(path=[path])).texts("val")
    assert default == JsonlDataset(JsonlConfig(path=[path])).texts("val")
    assert default != JsonlDataset(JsonlConfig(path=[path], seed=1)).texts("val")
    assert default != [f"record {i}" for i in range(45, 50)]
    assert JsonlDataset(JsonlConfig(path=[path], shuffle=False)).texts("val") == [
        f"record {i}" for i in range(45, 50)]


def test_shuffling_one_text_is_refused():
    allowed = "false or unset with dataset.documents=whole"
    with pytest.raises(InvalidValue, match=allowed):
        TextConfig(path=["x.txt"], shuffle=True)
    with pytest.raises(ZooError) as caught:
        apply_values(TextConfig(path=["x.txt"]), {"shuffle": "true"}, "dataset", "dataset 'text'")
    assert str(caught.value).startswith("dataset.shuffle=True is not allowed for dataset 'text'")
    assert TextConfig(path=["x.txt"], shuffle=False).shuffles() is False
