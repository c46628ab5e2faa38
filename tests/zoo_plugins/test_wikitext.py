"""The wikitext-2 dataset: local raw files, Hugging Face datasets, and the error when neither."""

from __future__ import annotations

import sys
import types

import pytest

from zoo.errors import ZooError
from zoo_plugins.datasets.wikitext import WikiText2Config, WikiText2Dataset

RAW = {
    "wiki.train.raw": " = Valkyria Chronicles III = \n\n Senjō no Valkyria 3 ...\n",
    "wiki.valid.raw": " = Homarus gammarus = \n\n Homarus gammarus , known as ...\n",
    "wiki.test.raw": " = Robert Boulter = \n\n Robert Boulter is an English ...\n",
}


@pytest.fixture
def raw_folder(tmp_path):
    folder = tmp_path / "wikitext-2-raw"
    folder.mkdir()
    for name, text in RAW.items():
        (folder / name).write_text(text, "utf-8")
    return folder


@pytest.mark.parametrize("use_parent", [False, True])
def test_local_raw_files_give_the_standard_splits(raw_folder, use_parent):
    path = raw_folder.parent if use_parent else raw_folder
    dataset = WikiText2Dataset(WikiText2Config(path=str(path)))
    assert dataset.texts("train") == [RAW["wiki.train.raw"]]
    assert dataset.texts("val") == [RAW["wiki.valid.raw"]]
    assert dataset.texts("test") == [RAW["wiki.test.raw"]]


def test_a_folder_without_the_files_is_a_clear_error(tmp_path):
    with pytest.raises(ZooError, match="does not hold wiki.train.raw"):
        WikiText2Dataset(WikiText2Config(path=str(tmp_path))).texts("train")


def test_huggingface_datasets_when_installed(monkeypatch):
    calls = []

    def load_dataset(name, config):
        calls.append((name, config))
        return {split: {"text": [f" = {split} = \n", f" line of {split} \n"]}
                for split in ("train", "validation", "test")}

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    dataset = WikiText2Dataset(WikiText2Config())
    assert dataset.texts("val") == [" = validation = \n line of validation \n"]
    assert calls == [("wikitext", "wikitext-2-raw-v1")]


def test_huggingface_failure_suggests_local_files(monkeypatch):
    def load_dataset(name, config):
        raise ConnectionError("offline")

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    with pytest.raises(ZooError, match="could not load wikitext-2-raw-v1.*dataset.path"):
        WikiText2Dataset(WikiText2Config()).texts("train")


def test_neither_source_names_both_ways_out(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets -> ImportError
    with pytest.raises(ZooError) as error:
        WikiText2Dataset(WikiText2Config()).texts("train")
    assert "zoo-lm[wikitext]" in str(error.value) and "dataset.path" in str(error.value)
