"""The ``wikitext-2`` dataset: WikiText-2 (raw), Merity et al. 2016, with its own splits.

Read through Hugging Face ``datasets`` (``pip install 'zoo-lm[wikitext]'``)
when it is installed and has the data, or from local raw files in the
standard layout: a folder holding ``wiki.train.raw``, ``wiki.valid.raw`` and
``wiki.test.raw`` (as unpacked from ``wikitext-2-raw-v1.zip``). ``train``
is the training split and ``val`` the validation split; ``test`` is kept
apart for a final evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from zoo.plugin import ZooError
from zoo_plugins.datasets.text import read_utf8

RAW_FILES = {"train": "wiki.train.raw", "val": "wiki.valid.raw", "test": "wiki.test.raw"}
HF_SPLITS = {"train": "train", "val": "validation", "test": "test"}


@dataclass
class WikiText2Config:
    """Options of the ``wikitext-2`` dataset."""

    path: str = ""  # folder with wiki.{train,valid,test}.raw; empty: Hugging Face datasets
    source: Literal["auto", "huggingface", "local"] = "auto"  # auto: path if given, else HF


def _local_folder(path: Path) -> Path:
    for candidate in (path, path / "wikitext-2-raw"):
        if all((candidate / name).exists() for name in RAW_FILES.values()):
            return candidate
    raise ZooError(
        f"{str(path)!r} does not hold {', '.join(RAW_FILES.values())}; "
        "unpack wikitext-2-raw-v1.zip there or point dataset.path at its folder"
    )


def _from_huggingface() -> dict[str, str]:
    try:
        import datasets
    except ImportError:
        raise ZooError(
            "wikitext-2 needs Hugging Face datasets (pip install 'zoo-lm[wikitext]') or the "
            "raw files: --set dataset.path=DIR with wiki.train.raw, wiki.valid.raw, wiki.test.raw"
        ) from None
    try:
        loaded = datasets.load_dataset("wikitext", "wikitext-2-raw-v1")
    except Exception as error:  # offline, or the hub refused: say so in one line
        raise ZooError(
            f"Hugging Face datasets could not load wikitext-2-raw-v1 ({type(error).__name__}); "
            "pass the raw files with --set dataset.path=DIR instead"
        ) from None
    return {split: "".join(loaded[hf]["text"]) for split, hf in HF_SPLITS.items()}


class WikiText2Dataset:
    """WikiText-2's train, validation and test text."""

    def __init__(self, config: WikiText2Config) -> None:
        self.config = config
        self._splits: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        source = self.config.source
        if source == "auto":
            source = "local" if self.config.path else "huggingface"
        if source == "huggingface":
            return _from_huggingface()
        if not self.config.path:
            raise ZooError("dataset.source=local needs --set dataset.path=DIR")
        folder = _local_folder(Path(self.config.path))
        return {split: read_utf8(folder / name) for split, name in RAW_FILES.items()}

    def texts(self, split: str) -> list[str]:
        if self._splits is None:
            self._splits = self._load()
        return [self._splits[split]]
