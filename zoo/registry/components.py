"""What the registry holds: the component kinds, each registered component with its provider,
the plugins that broke and the names two plugins claim."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import PluginError

#: Component kinds, each with the hook that registers it.
KIND_HOOKS = {
    "architecture": "zoo_register_architectures",
    "tokenizer": "zoo_register_tokenizers",
    "dataset": "zoo_register_datasets",
    "exporter": "zoo_register_exporters",
    "logger": "zoo_register_loggers",
}
KINDS = tuple(KIND_HOOKS)
#: Trained models: registered by their own hook, with a run directory instead of a factory.
PRETRAINED = "pretrained"
PRETRAINED_HOOK = "zoo_register_pretrained"
#: What ``zoo list --kind`` takes.
LIST_KINDS = (*KINDS, PRETRAINED)
#: The files every pretrained model's directory holds besides its ``tokenizer/``
#: (the run directory's files, :mod:`zoo.runs.run_directory`, and the model card).
PRETRAINED_FILES = ("config.json", "model.safetensors", "metrics.jsonl", "MODEL.md")
#: What a provider record holds where the distribution or version could not be known.
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Provider:
    """Where a component comes from: the entry point and its distribution."""

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version} (plugin {self.plugin!r})"

    def record(self) -> dict[str, str]:
        """The JSON object runs and exports store to remember this provider."""
        return {"plugin": self.plugin, "distribution": self.distribution,
                "version": self.version}

    @classmethod
    def from_record(cls, record: Any) -> Provider | None:
        """The provider a run or export recorded, or None if it recorded none usable."""
        if not isinstance(record, Mapping):
            return None
        values = [record.get(key, UNKNOWN) for key in ("plugin", "distribution", "version")]
        if not all(isinstance(value, str) and value for value in values):
            return None
        provider = cls(*values)
        return None if provider.distribution == UNKNOWN else provider

    def requirement(self) -> str:
        """The pip requirement that installs this provider's version or a newer one."""
        if self.version == UNKNOWN:
            return self.distribution
        return f"{self.distribution}>={self.version}"


@dataclass(frozen=True)
class Component:
    """One registered architecture, tokenizer, dataset or exporter."""

    kind: str
    name: str
    summary: str
    config: type
    factory: Callable[..., Any] | str
    provider: Provider
    train_defaults: dict[str, Any] = field(default_factory=dict)  # architectures only

    def load_factory(self) -> Callable[..., Any]:
        """Import the factory if it was registered as a ``"module:attribute"`` string."""
        if callable(self.factory):
            return self.factory
        module_name, _, attribute = self.factory.partition(":")
        try:
            target: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                target = getattr(target, part)
        except Exception as error:
            raise PluginError(
                f"{self.kind} {self.name!r} from {self.provider} cannot load its factory "
                f"{self.factory!r}: {type(error).__name__}: {error}"
            ) from error
        return target

    def default_config(self) -> Any:
        """A config instance with every default."""
        return self.config()


@dataclass(frozen=True)
class PretrainedModel:
    """One registered trained model: a read-only run directory shipped in a plugin's package.

    ``sha256`` maps every file's path relative to ``directory`` to its hex
    digest, as the plugin registered it; loading checks them
    (:func:`zoo.runs.pretrained.verify`).
    """

    name: str  # ARCHITECTURE/DATASET[-VARIANT]
    summary: str
    directory: Path
    sha256: Mapping[str, str]
    provider: Provider
    kind: str = PRETRAINED


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that could not be loaded or registered; kept to be shown, never fatal."""

    provider: Provider
    error: str


@dataclass(frozen=True)
class Conflict:
    """Two plugins registered the same kind and name; neither wins silently."""

    kind: str
    name: str
    providers: tuple[Provider, ...]

    def message(self) -> str:
        names = " and ".join(str(p) for p in self.providers)
        plugins = ",".join(p.plugin for p in self.providers[1:])
        return (
            f"{self.kind} {self.name!r} is registered by both {names}; "
            f"uninstall one, or block it with ZOO_DISABLE_PLUGINS={plugins}"
        )
