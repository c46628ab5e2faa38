"""Instantiating registered components: a tokenizer, a dataset, a model or an exporter."""

from __future__ import annotations

from typing import Any

from zoo.config.sections import ComponentChoice
from zoo.registry.contracts import Dataset, Tokenizer
from zoo.registry.host import Registry


def build_component(registry: Registry, kind: str, choice: ComponentChoice, *args: Any) -> Any:
    """A new instance of the chosen component of ``kind``, made by its plugin's factory.

    ``choice`` carries the component's name and resolved config (see
    :func:`zoo.config.run.choose_component`); ``args`` follow the config in the
    factory's call (an architecture's vocabulary size).
    """
    factory = registry.get(kind, choice.name).load_factory()
    return factory(choice.config, *args)


def build_tokenizer(registry: Registry, choice: ComponentChoice) -> Tokenizer:
    """An untrained tokenizer; call ``train`` or ``load`` on it."""
    tokenizer: Tokenizer = build_component(registry, "tokenizer", choice)
    return tokenizer


def build_dataset(registry: Registry, choice: ComponentChoice) -> Dataset:
    """The dataset, ready to yield the documents of each split."""
    dataset: Dataset = build_component(registry, "dataset", choice)
    return dataset


def build_model(registry: Registry, choice: ComponentChoice, vocab_size: int) -> Any:
    """The architecture's ``torch.nn.Module`` with fresh weights."""
    return build_component(registry, "architecture", choice, vocab_size)


def count_parameters(model: Any) -> int:
    """Trainable parameters of a ``torch.nn.Module``, each shared tensor counted once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
