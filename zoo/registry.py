"""Discover plugins through entry points and collect the components they register.

The registry is built by :func:`load_registry`, never at import time. Every
entry point in group ``zoo`` is loaded on its own, under a guard: a plugin
that fails to import, raises in a hook or registers something malformed is
recorded as broken with its error, and everything else keeps working.
``ZOO_DISABLE_PLUGINS=a,b`` skips entry points by name; ``ZOO_STRICT=1``
re-raises plugin errors instead of recording them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Protocol

import pluggy

from zoo import PLUGIN_API_VERSION, hookspecs
from zoo.errors import PluginError, ZooError

ENTRY_POINT_GROUP = "zoo"

#: Component kinds, each with the hook that registers it.
KIND_HOOKS = {
    "architecture": "zoo_register_architectures",
    "tokenizer": "zoo_register_tokenizers",
    "dataset": "zoo_register_datasets",
    "exporter": "zoo_register_exporters",
}
KINDS = tuple(KIND_HOOKS)

_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class EntryPointLike(Protocol):
    """What the registry needs of an entry point (tests pass fakes)."""

    name: str

    def load(self) -> Any: ...


@dataclass(frozen=True)
class Provider:
    """Where a component comes from: the entry point and its distribution."""

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version} (plugin {self.plugin!r})"


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


@dataclass
class Registry:
    """Every component the installed plugins registered, and the plugins that broke."""

    components: dict[tuple[str, str], Component] = field(default_factory=dict)
    broken: list[BrokenPlugin] = field(default_factory=list)
    conflicts: dict[tuple[str, str], Conflict] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)  # loaded plugins by name
    plugin_manager: pluggy.PluginManager | None = None

    def add_commands(self, cli: Any) -> None:
        """Call every loaded plugin's ``zoo_register_commands(cli)``, each under a guard."""
        if self.plugin_manager is None:
            return
        for implementation in self.plugin_manager.hook.zoo_register_commands.get_hookimpls():
            try:
                implementation.function(cli=cli)
            except Exception as error:
                if strict_mode():
                    raise
                name = implementation.plugin_name
                provider = self.providers.get(name, Provider(name, "unknown", "unknown"))
                self.broken.append(BrokenPlugin(provider, f"{type(error).__name__}: {error}"))

    def names(self, kind: str) -> list[str]:
        return sorted(name for k, name in self.components if k == kind)

    def get(self, kind: str, name: str) -> Component:
        """The component, or a :class:`ZooError` naming what is available instead."""
        key = (kind, name)
        if key in self.conflicts:
            raise ZooError(self.conflicts[key].message())
        if key in self.components:
            return self.components[key]
        available = ", ".join(self.names(kind)) or "none"
        message = f"no {kind} {name!r}; available: {available}"
        if self.broken:
            plugins = ", ".join(f"{b.provider.plugin} ({b.error})" for b in self.broken)
            message += f"; broken plugins that may provide it: {plugins}"
        raise ZooError(message)

    def select(self, kind: str | None = None, pattern: str | None = None) -> list[Component]:
        """Components of one kind (or all), whose names match a glob or substring."""
        chosen = []
        for (k, name), component in sorted(self.components.items()):
            if kind is not None and k != kind:
                continue
            if pattern and not _matches(name, pattern):
                continue
            chosen.append(component)
        return chosen


def _matches(name: str, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


def _provider_of(entry_point: EntryPointLike) -> Provider:
    dist = getattr(entry_point, "dist", None)
    return Provider(
        plugin=entry_point.name,
        distribution=getattr(dist, "name", None) or "unknown",
        version=getattr(dist, "version", None) or "unknown",
    )


def _check_registration(
    kind: str, name: Any, summary: Any, config: Any, factory: Any, train_defaults: Any
) -> None:
    """Raise :class:`PluginError` naming what is malformed in one registration."""
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise PluginError(
            f"{kind} name {name!r} is not valid: use lowercase letters, digits, '.', '_', '-'"
        )
    if not isinstance(summary, str) or not summary.strip() or "\n" in summary.strip():
        raise PluginError(f"{kind} {name!r} needs a one-line summary string")
    if not (isinstance(config, type) and dataclasses.is_dataclass(config)):
        raise PluginError(f"{kind} {name!r}: config must be a dataclass type, got {config!r}")
    try:
        config()
    except TypeError as error:
        raise PluginError(
            f"{kind} {name!r}: every field of config {config.__name__} needs a default ({error})"
        ) from error
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        raise PluginError(
            f"{kind} {name!r}: factory must be callable or a 'module:attribute' string"
        )
    if not isinstance(train_defaults, dict) or not all(isinstance(k, str) for k in train_defaults):
        raise PluginError(f"{kind} {name!r}: train_defaults must be a dict of train-section keys")


def _stage_plugin(
    provider: Provider, module: Any, plugin_manager: pluggy.PluginManager
) -> list[Component]:
    """Run one plugin's registration hooks and return what it registered."""
    required = getattr(module, "ZOO_PLUGIN_API", 1)
    if not isinstance(required, int) or required > PLUGIN_API_VERSION:
        raise PluginError(
            f"needs zoo plugin API {required}, this zoo provides {PLUGIN_API_VERSION}; "
            "upgrade zoo-lm or install an older version of the plugin"
        )
    plugin_manager.register(module, name=provider.plugin)
    staged: list[Component] = []
    for kind, hook_name in KIND_HOOKS.items():
        hook_caller = getattr(plugin_manager.hook, hook_name)
        implementations = [i for i in hook_caller.get_hookimpls() if i.plugin is module]

        def register(
            name: str,
            *,
            summary: str,
            config: type,
            factory: Callable[..., Any] | str,
            train_defaults: dict[str, Any] | None = None,
            _kind: str = kind,
        ) -> None:
            train_defaults = {} if train_defaults is None else train_defaults
            _check_registration(_kind, name, summary, config, factory, train_defaults)
            if any(c.kind == _kind and c.name == name for c in staged):
                raise PluginError(f"registers {_kind} {name!r} twice")
            staged.append(
                Component(
                    _kind, name, summary.strip(), config, factory, provider, dict(train_defaults)
                )
            )

        for implementation in implementations:
            implementation.function(register=register)
    return staged


def disabled_plugins() -> set[str]:
    """Entry-point names listed in ``ZOO_DISABLE_PLUGINS`` (comma-separated)."""
    raw = os.environ.get("ZOO_DISABLE_PLUGINS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def strict_mode() -> bool:
    return os.environ.get("ZOO_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}


def installed_entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def load_registry(
    entry_points: Iterable[EntryPointLike] | None = None,
    *,
    disabled: set[str] | None = None,
    strict: bool | None = None,
) -> Registry:
    """Load every plugin (or the given entry points) into a fresh :class:`Registry`."""
    if entry_points is None:
        entry_points = installed_entry_points()
    disabled = disabled_plugins() if disabled is None else disabled
    strict = strict_mode() if strict is None else strict

    plugin_manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    plugin_manager.add_hookspecs(hookspecs)
    registry = Registry(plugin_manager=plugin_manager)
    owners: dict[tuple[str, str], list[Provider]] = {}

    for entry_point in entry_points:
        if entry_point.name in disabled:
            continue
        provider = _provider_of(entry_point)
        try:
            module = entry_point.load()
            staged = _stage_plugin(provider, module, plugin_manager)
        except Exception as error:
            if strict:
                raise
            if plugin_manager.has_plugin(provider.plugin):
                plugin_manager.unregister(name=provider.plugin)
            registry.broken.append(BrokenPlugin(provider, f"{type(error).__name__}: {error}"))
            continue
        registry.providers[provider.plugin] = provider
        for component in staged:
            owners.setdefault((component.kind, component.name), []).append(provider)
            registry.components.setdefault((component.kind, component.name), component)

    for key, providers in owners.items():
        if len(providers) > 1:
            conflict = Conflict(key[0], key[1], tuple(providers))
            if strict:
                raise PluginError(conflict.message())
            registry.conflicts[key] = conflict
            del registry.components[key]
    return registry
