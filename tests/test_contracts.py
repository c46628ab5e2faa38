"""Every registered component passes its contract check in zoo.testing, one case each.

The ``*_name`` arguments are parametrized in conftest.py over every component
of their kind in the installed registry (``pretrained_name`` over every
installed trained model) (timm's test_models.py pattern): a new
plugin is checked here as soon as it is registered, with nothing to add.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from zoo.models.loading import LoadedRun, load_run
from zoo.registry.host import Registry
from zoo.testing import (
    check_architecture,
    check_dataset,
    check_exporter,
    check_logger,
    check_pretrained,
    check_tokenizer,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

#: The recipes of zoo's own pretrained package (plugins/pretrained): each is a shipped model.
RECIPES = Path(__file__).parents[1] / "plugins" / "pretrained" / "recipes.toml"


def test_architecture_contract(registry: Registry, architecture_name: str):
    component = registry.get("architecture", architecture_name)
    check_architecture(component.load_factory(), component.default_config())


def test_tokenizer_contract(registry: Registry, small_corpus: Path, tokenizer_name: str):
    component = registry.get("tokenizer", tokenizer_name)
    text = small_corpus.read_text("utf-8")
    check_tokenizer(component.load_factory(), component.default_config(),
                    texts=[text[:30_000], text[30_000:]], vocab_size=400)


def _wikitext_folder(folder: Path) -> str:
    """A local copy of WikiText-2's raw files, one line of text each."""
    folder.mkdir()
    for split in ("train", "valid", "test"):
        (folder / f"wiki.{split}.raw").write_text(f" = {split} = \n\n Some {split} text .\n")
    return str(folder)


def _jsonl_records(path: Path) -> list[str]:
    path.write_text("".join(f'{{"text": "record {i}"}}\n' for i in range(10)))
    return [str(path)]


@pytest.fixture
def dataset_values(dataset_name: str, tmp_path: Path, small_corpus: Path) -> dict[str, Any]:
    """The config values a dataset is checked with: local files for those that read them,
    none (its defaults) for every other, a third party's included."""
    if dataset_name == "jsonl":
        return {"path": _jsonl_records(tmp_path / "records.jsonl")}
    if dataset_name == "text":
        return {"path": [str(small_corpus)]}
    if dataset_name == "wikitext-2":
        return {"path": _wikitext_folder(tmp_path / "wikitext-2-raw")}
    return {}


def test_dataset_contract(registry: Registry, dataset_name: str, dataset_values: dict[str, Any]):
    component = registry.get("dataset", dataset_name)
    check_dataset(component.load_factory(), component.config(**dataset_values))


#: Exporter options for the contract: a short parity rollout, since the check exports three
#: times and parity itself is tested in tests/zoo_exports.
EXPORT_VALUES: dict[str, dict[str, Any]] = {"onnx": {"parity_steps": 16},
                                            "web": {"parity_steps": 16}}


@pytest.fixture(scope="module")
def loaded_run(registry: Registry, trained_run: Path) -> LoadedRun:
    """The session's tiny trained gru-tied run, loaded once for the exporters."""
    return load_run(registry, trained_run)


def test_exporter_contract(registry: Registry, loaded_run: LoadedRun, exporter_name: str):
    component = registry.get("exporter", exporter_name)
    config = component.config(**EXPORT_VALUES.get(exporter_name, {}))
    check_exporter(component.load_factory(), config, loaded_run, registry)


def test_logger_contract(registry: Registry, logger_name: str):
    component = registry.get("logger", logger_name)
    check_logger(component.load_factory(), component.default_config())



def test_pretrained_contract(registry: Registry, pretrained_name: str):
    # every file matches its sha256, the recorded val loss is zoo eval's on the shipped
    # weights (to 1e-4), it samples, its card is whole, and it is read-only
    check_pretrained(pretrained_name, registry)


def test_every_recipe_of_zoos_pretrained_package_is_installed(registry: Registry):
    recipes = tomllib.loads(RECIPES.read_text("utf-8"))["model"]
    shipped = {name for name, model in registry.pretrained.items()
               if model.provider.distribution == "zoo-lm-pretrained"}
    assert shipped == {recipe["name"] for recipe in recipes}
    architectures = {name.split("/")[0] for name in shipped if name.endswith("/tinyshakespeare")}
    assert architectures == set(registry.names("architecture"))  # every built-in one
    card = registry.pretrained["mlp/names"].directory / "MODEL.md"
    assert "- novelty: " in card.read_text("utf-8")  # names are documents: new ones counted
