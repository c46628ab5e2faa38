"""Instantiate the registered components a run config names."""

from __future__ import annotations

from typing import Any

from zoo.config import ComponentChoice
from zoo.contracts import Dataset, Tokenizer
from zoo.registry import Registry


def build_tokenizer(registry: Registry, choice: ComponentChoice) -> Tokenizer:
    """An untrained tokenizer; call ``train`` or ``load`` on it."""
    factory = registry.get("tokenizer", choice.name).load_factory()
    return factory(choice.config)


def build_dataset(registry: Registry, choice: ComponentChoice) -> Dataset:
    factory = registry.get("dataset", choice.name).load_factory()
    return factory(choice.config)


def build_model(registry: Registry, choice: ComponentChoice, vocab_size: int) -> Any:
    """The architecture's ``torch.nn.Module`` with fresh weights."""
    factory = registry.get("architecture", choice.name).load_factory()
    return factory(choice.config, vocab_size)
