"""Datasets of documents: ``text`` by file, paragraph or line, ``jsonl`` records, ``names``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_errors import one_line_error, one_line_zoo_error
from zoo.cli import cli
from zoo.config.values import InvalidValue, apply_values
from zoo.data.documents import rows_of
from zoo.testing import check_dataset
from zoo_plugins.datasets import names
from zoo_plugins.datasets.jsonl import JsonlConfig, JsonlDataset
from zoo_plugins.datasets.names import NamesConfig, NamesDataset
from zoo_plugins.datasets.splits import split_documents
from zoo_plugins.datasets.text import TextConfig, TextDataset


def _documents(dataset) -> list[str]:
    return dataset.texts("train") + dataset.texts("val")



# -- the document split ------------------------------------------------------------------------

def test_split_documents_keeps_order_and_cuts_at_int_of_len_times_nine_tenths():
    documents = [f"d{i}" for i in range(25)]
    splits = split_documents(documents, 0.1, source="test")
    assert len(splits["train"]) == 22  # int(25 * 0.9) = int(22.5)
    assert splits["train"] + splits["val"] == documents


@pytest.mark.parametrize(("count", "fraction", "train"), [(2, 0.1, 1), (3, 0.01, 2), (3, 0.99, 1)])
def test_split_documents_leaves_each_split_a_document(count, fraction, train):
    splits = split_documents([str(i) for i in range(count)], fraction, source="test")
    assert len(splits["train"]) == train and len(splits["val"]) == count - train


def test_split_documents_needs_two_documents():
    message = one_line_zoo_error(
        lambda: split_documents(["alone"], 0.1, source="my.txt", way_out="add more"))
    assert "my.txt gives 1 document(s)" in message and message.endswith("add more")


# -- text: dataset.documents ---------------------------------------------------------------------

@pytest.fixture
def two_files(tmp_path: Path) -> list[str]:
    first, second = tmp_path / "b.txt", tmp_path / "a.txt"
    first.write_text("Para one,\n  line two.\n\n\n \t\nPara two.\r\nStill two.\n", "utf-8")
    second.write_text("  emma \n\nolivia\nava\n", "utf-8")
    return [str(first), str(second)]


def test_whole_is_the_default_and_keeps_todays_split(two_files):
    default = TextDataset(TextConfig(path=two_files))
    whole = TextDataset(TextConfig(path=two_files, documents="whole"))
    texts = [Path(p).read_bytes().decode() for p in two_files]  # \r\n kept, as read_utf8 does
    joined = "\n".join(texts)
    cut = int(len(joined) * 0.9)
    assert TextConfig().documents == "whole"
    assert default.texts("train") == whole.texts("train") == [joined[:cut]]
    assert default.texts("val") == whole.texts("val") == [joined[cut:]]


def test_file_documents_are_the_files_as_they_are(two_files, tmp_path):
    (tmp_path / "empty.txt").write_text("")
    dataset = TextDataset(TextConfig(path=[*two_files, str(tmp_path / "empty.txt")],
                                     documents="file"))
    assert dataset.texts("train") == [Path(two_files[0]).read_bytes().decode()]
    assert dataset.texts("val") == [Path(two_files[1]).read_bytes().decode()]


def test_paragraph_documents_are_separated_by_blank_lines(two_files):
    dataset = TextDataset(TextConfig(path=two_files, documents="paragraph", val_fraction=0.5,
                                     shuffle=False))
    assert _documents(dataset) == ["Para one,\n  line two.", "Para two.\nStill two.",
                                   "  emma ", "olivia\nava"]
    assert dataset.texts("val") == ["  emma ", "olivia\nava"]


def test_line_documents_are_the_non_blank_lines_stripped(two_files):
    dataset = TextDataset(TextConfig(path=two_files, documents="line", val_fraction=0.4,
                                     shuffle=False))
    assert _documents(dataset) == ["Para one,", "line two.", "Para two.", "Still two.",
                                   "emma", "olivia", "ava"]
    assert dataset.texts("val") == ["emma", "olivia", "ava"]  # int(7 * 0.6) = 4 train


def test_document_modes_never_cut_a_document(tmp_path):
    path = tmp_path / "items.txt"
    path.write_text("".join(f"item number {i}\n" for i in range(100)), "utf-8")
    dataset = TextDataset(TextConfig(path=[str(path)], documents="line", shuffle=False))
    assert dataset.texts("train") == [f"item number {i}" for i in range(90)]
    assert dataset.texts("val") == [f"item number {i}" for i in range(90, 100)]


@pytest.mark.parametrize("documents", ["file", "paragraph", "line"])
def test_too_few_documents_is_one_line_with_the_way_out(tmp_path, documents):
    path = tmp_path / "one.txt"
    path.write_text("a single line of text\n", "utf-8")
    message = one_line_zoo_error(lambda: TextDataset(TextConfig(path=[str(path)],
                                                    documents=documents)).texts("train"))
    assert f"dataset.documents={documents}" in message
    assert "--set dataset.documents=whole" in message


@pytest.mark.parametrize(("key", "value", "allowed"), [
    ("documents", "sentence", "one of whole, file, paragraph, line"),
    ("rows", "diagonal", "one of packed, padded"),
])
def test_text_options_are_checked(key, value, allowed):
    with pytest.raises(InvalidValue, match=allowed):
        TextConfig(path=["x.txt"], **{key: value})
    message = one_line_zoo_error(lambda: apply_values(TextConfig(path=["x.txt"]), {key: value},
                                          "dataset", "dataset text"))
    assert f"dataset.{key}={value!r}" in message and allowed in message


def test_rows_defaults():
    """Lines (makemore's items) one a row, other text packed; a given value wins."""
    assert rows_of(TextConfig()) == rows_of(JsonlConfig()) == "packed"
    assert rows_of(TextConfig(documents="paragraph")) == "packed"
    assert rows_of(TextConfig(documents="line")) == rows_of(NamesConfig()) == "padded"
    assert rows_of(TextConfig(path=["x"], rows="padded")) == "padded"
    assert rows_of(TextConfig(documents="line", rows="packed")) == "packed"


# -- jsonl ---------------------------------------------------------------------------------------

def _jsonl(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return str(path)


def test_jsonl_gives_one_document_per_record_in_order(tmp_path):
    first = _jsonl(tmp_path / "a.jsonl", [json.dumps({"text": f"story {i}\nends.", "id": i})
                                          for i in range(8)])
    second = _jsonl(tmp_path / "b.jsonl", ["", json.dumps({"text": "naïve 😀"}),
                                           json.dumps({"text": ""}), "  ",
                                           json.dumps({"text": "last"})])
    dataset = JsonlDataset(JsonlConfig(path=[first, second], shuffle=False))
    assert dataset.texts("train") == [f"story {i}\nends." for i in range(8)] + ["naïve 😀"]
    assert dataset.texts("val") == ["last"]  # int(10 * 0.9) = 9 train; empty text skipped


def test_jsonl_reads_the_named_field_with_crlf_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(
        json.dumps({"body": f"message {i}"}).encode() + b"\r\n" for i in range(4)))
    dataset = JsonlDataset(JsonlConfig(path=[str(path)], field="body", val_fraction=0.5,
                                       shuffle=False))
    assert dataset.texts("train") == ["message 0", "message 1"]
    assert dataset.texts("val") == ["message 2", "message 3"]


@pytest.mark.parametrize(("line", "problem", "way_out"), [
    ('{"text": "unclosed', "line 3 is not JSON", 'such as {"text": "..."}'),
    ('["text", "a list"]', "line 3 is an array, not a JSON object", 'such as {"text": "..."}'),
    ('{"body": "x", "id": 3}', "line 3 has no field 'text' (its fields: 'body', 'id')",
     "--set dataset.field=NAME"),
    ('{"text": 42}', "line 3: field 'text' is a number, not a string",
     "--set dataset.field=NAME"),
    ('{"text": null}', "line 3: field 'text' is null, not a string", "--set dataset.field=NAME"),
], ids=["bad json", "not an object", "missing field", "a number", "null"])
def test_a_bad_record_is_one_line_naming_file_line_and_way_out(tmp_path, line, problem, way_out):
    path = _jsonl(tmp_path / "data.jsonl", ['{"text": "fine"}', "", line, '{"text": "fine"}'])
    message = one_line_zoo_error(lambda: JsonlDataset(JsonlConfig(path=[path])).texts("train"))
    assert f"{path!r} {problem}" in message
    assert way_out in message


def test_jsonl_file_problems_are_one_line(tmp_path):
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes(b'{"text": "caf\xe9"}\n')
    assert "offset 13" in one_line_zoo_error(lambda: JsonlDataset(JsonlConfig(path=[str(latin)]))
                                 .texts("train"))
    missing = str(tmp_path / "nowhere.jsonl")
    assert "nowhere.jsonl" in one_line_zoo_error(lambda: JsonlDataset(JsonlConfig(path=[missing]))
                                     .texts("train"))
    assert "--set dataset.path=" in one_line_zoo_error(lambda: JsonlDataset(JsonlConfig()))
    one = _jsonl(tmp_path / "one.jsonl", ['{"text": "only"}'])
    assert "gives 1 document(s)" in one_line_zoo_error(lambda: JsonlDataset(JsonlConfig(path=[one]))
                                           .texts("train"))


def test_a_bad_record_stops_zoo_train_with_one_line(runner, tmp_path):
    path = _jsonl(tmp_path / "data.jsonl", ['{"text": "fine"}', '{"txt": "typo"}'])
    result = runner.invoke(cli, ["train", "bigram", "--dataset", "jsonl", "--set",
                                 f"dataset.path={path}", "--steps", "1",
                                 "--out", str(tmp_path / "run")])
    line = one_line_error(result)
    assert "data.jsonl' line 2 has no field 'text'" in line


# -- names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "count"), [("first", 5163), ("last", 88799), ("all", 91910)])
def test_names_are_the_census_lists_lowercased_unique_and_split(kind, count):
    dataset = NamesDataset(NamesConfig(kind=kind))
    train, val = dataset.texts("train"), dataset.texts("val")
    everything = train + val
    assert len(everything) == len(set(everything)) == count
    assert len(train) == int(count * 0.9)
    assert not set(train) & set(val)
    assert all(name.isalpha() and name.islower() for name in everything)


def test_first_names_hold_male_and_female_names_and_no_last_names():
    first = set(_documents(NamesDataset(NamesConfig())))
    assert {"james", "mary", "emma", "olivia", "john", "patricia"} <= first
    assert "smith" not in first
    last = set(_documents(NamesDataset(NamesConfig(kind="last"))))
    assert {"smith", "johnson", "williams"} <= last
    assert first & last <= set(_documents(NamesDataset(NamesConfig(kind="all"))))


def test_names_are_shuffled_by_the_seed():
    again = NamesDataset(NamesConfig()).texts("val")
    assert NamesDataset(NamesConfig()).texts("val") == again
    assert NamesDataset(NamesConfig(seed=1)).texts("val") != again
    train = NamesDataset(NamesConfig()).texts("train")
    assert train[:3] != ["james", "john", "robert"]  # not the census's order by frequency


def test_names_options_are_checked():
    with pytest.raises(InvalidValue, match="one of first, last, all"):
        NamesConfig(kind="middle")
    with pytest.raises(InvalidValue, match="above 0 and below 1"):
        NamesConfig(val_fraction=1.0)


def test_missing_names_data_is_one_line_saying_pip_install(tmp_path, monkeypatch):
    monkeypatch.setattr(names.resources, "files", lambda package: tmp_path)  # no census files
    message = one_line_zoo_error(lambda: NamesDataset(NamesConfig()).texts("train"))
    assert "dist.male.first" in message and message.endswith("pip install names")

    def uninstalled(package):
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(names.resources, "files", uninstalled)
    assert one_line_zoo_error(lambda: NamesDataset(NamesConfig()).texts("train")).endswith(
        "pip install names")


# -- the contract ------------------------------------------------------------------------------

# Every registered dataset passes it with one config in tests/test_contracts.py; these are the
# other ways of reading documents, one case each.

@pytest.mark.parametrize(("name", "values"), [
    ("names", lambda tmp_path: {"kind": "last"}),
    ("jsonl", lambda tmp_path: {"path": [_jsonl(tmp_path / "r.jsonl", [
        json.dumps({"story": f"r{i}", "id": i}) for i in range(10)])], "field": "story"}),
    ("text", lambda tmp_path: {"path": [_jsonl(tmp_path / "items.txt", [
        f"item {i}" for i in range(10)])], "documents": "line", "rows": "padded"}),
], ids=["names-last", "jsonl-field", "text-lines-padded"])
def test_other_document_configs_pass_the_contract(registry, tmp_path, name, values):
    component = registry.get("dataset", name)
    check_dataset(component.load_factory(), component.config(**values(tmp_path)))
