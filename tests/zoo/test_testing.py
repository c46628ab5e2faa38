"""zoo.testing: the public contract checks pass every built-in and catch broken components."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from zoo.registry import load_registry
from zoo.testing import check_dataset, check_tokenizer

REGISTRY = load_registry(disabled=set(), strict=True)


@pytest.mark.parametrize("name", REGISTRY.names("tokenizer"))
def test_every_registered_tokenizer_passes_the_contract(registry, small_corpus, name):
    component = registry.get("tokenizer", name)
    text = small_corpus.read_text("utf-8")
    check_tokenizer(component.load_factory(), component.default_config(),
                    texts=[text[:30_000], text[30_000:]], vocab_size=400)


def _dataset_configs(tmp_path: Path, small_corpus: Path) -> dict[str, dict]:
    wikitext = tmp_path / "wikitext-2-raw"
    wikitext.mkdir()
    for split in ("train", "valid", "test"):
        (wikitext / f"wiki.{split}.raw").write_text(f" = {split} = \n\n Some {split} text .\n")
    return {
        "shakespeare": {},
        "text": {"path": [str(small_corpus)]},
        "tinyshakespeare": {"path": str(small_corpus)},
        "wikitext-2": {"path": str(wikitext)},
    }


def test_every_registered_dataset_passes_the_contract(registry, small_corpus, tmp_path):
    configs = _dataset_configs(tmp_path, small_corpus)
    assert set(configs) == set(registry.names("dataset")), "a registered dataset is not checked"
    for name, values in configs.items():
        component = registry.get("dataset", name)
        check_dataset(component.load_factory(), component.config(**values))


@dataclass
class NoConfig:
    pass


class ForgetfulTokenizer:
    """Saves nothing, so a reloaded copy knows no characters."""

    def __init__(self, config: NoConfig) -> None:
        self.chars: list[str] = []

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    def train(self, texts, vocab_size=None):
        self.chars = sorted(set("".join(texts)))

    def encode(self, text):
        return [self.chars.index(c) + 1 if c in self.chars else 0 for c in text]

    def decode(self, ids):
        return "".join(self.chars[i - 1] if i else "?" for i in ids)

    def save(self, directory):
        pass

    def load(self, directory):
        pass


def test_check_tokenizer_catches_a_tokenizer_that_does_not_save():
    with pytest.raises(AssertionError, match="saved and reloaded tokenizer has another vocab"):
        check_tokenizer(ForgetfulTokenizer, NoConfig())


class EmptyValidation:
    def __init__(self, config: NoConfig) -> None:
        pass

    def texts(self, split):
        return ["some text"] if split == "train" else []


def test_check_dataset_catches_an_empty_split():
    with pytest.raises(AssertionError, match=r"texts\('val'\) is empty"):
        check_dataset(EmptyValidation, NoConfig())
