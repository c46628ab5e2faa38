"""Discover plugins through entry points and collect the components they register.

The registry is built by :func:`load_registry`, never at import time. Every
entry point in group ``zoo`` is loaded on its own, under a guard: a plugin
that fails to import, implements a hook that does not exist (the error names
the nearest real one), raises in a hook or registers something malformed is
recorded as broken with its error, and everything else keeps working.
``ZOO_DISABLE_PLUGINS=a,b`` skips entry points by name; ``ZOO_STRICT=1``
re-raises plugin errors instead of recording them.

Hooks are called through pluggy, one plugin at a time, with only the
arguments each implementation declares. A registration is checked when it is
made: its name, summary, config dataclass, factory and, for architectures,
``train_defaults`` (keys of :class:`~zoo.config.training.TrainConfig`, values of their
types); other kinds may not give ``train_defaults``.

Each component keeps its :class:`Provider`, the distribution that registered
it. Runs and exports record it, so that :meth:`Registry.get_recorded` can
name the package to install when a component they need has gone missing.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import click
import pluggy

import zoo.registry.hookspecs as hookspecs  # the module, not the package that re-exports us
from zoo.config.training import TrainConfig, check_schedule
from zoo.config.values import apply_values
from zoo.errors import PluginError, ZooError
from zoo.registry.components import (
    KIND_HOOKS,
    PRETRAINED,
    PRETRAINED_FILES,
    PRETRAINED_HOOK,
    UNKNOWN,
    BrokenPlugin,
    Component,
    Conflict,
    PretrainedModel,
    Provider,
)
from zoo.registry.hookspecs import Register, RegisterPretrained
from zoo.version import PLUGIN_API_VERSION, __version__

ENTRY_POINT_GROUP = "zoo"

_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: ARCHITECTURE/DATASET with an optional -VARIANT: gru-tied/tinyshakespeare-bpe
PRETRAINED_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class EntryPointLike(Protocol):
    """What the registry needs of an entry point (tests pass fakes)."""

    name: str

    def load(self) -> Any: ...


@dataclass
class Registry:
    """Every component the installed plugins registered, and the plugins that broke."""

    components: dict[tuple[str, str], Component] = field(default_factory=dict)
    pretrained: dict[str, PretrainedModel] = field(default_factory=dict)  # trained models
    broken: list[BrokenPlugin] = field(default_factory=list)
    conflicts: dict[tuple[str, str], Conflict] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)  # loaded plugins by name
    plugin_manager: pluggy.PluginManager | None = None

    def add_commands(self, cli: Any) -> None:
        """Call every loaded plugin's ``zoo_register_commands(cli)``, each under a guard.

        Each plugin adds its commands to a group of its own first; none may
        shadow a built-in command or another plugin's. A clash is recorded in
        :attr:`conflicts` like a component clash: a built-in keeps its name,
        and a name two plugins claim answers with the conflict's message.
        """
        if self.plugin_manager is None:
            return
        builtin = Provider("builtin", "zoo-lm", __version__)
        owners: dict[str, list[Provider]] = {name: [builtin] for name in cli.commands}
        for name, plugin in self.plugin_manager.list_name_plugin():
            provider = self.providers.get(name, Provider(name, UNKNOWN, UNKNOWN))
            own = click.Group(cli.name)
            try:
                call_one_plugin(self.plugin_manager, "zoo_register_commands", plugin, cli=own)
            except Exception as error:
                if strict_mode():
                    raise
                self.broken.append(BrokenPlugin(provider, f"{type(error).__name__}: {error}"))
                continue
            for command_name, command in own.commands.items():
                owners.setdefault(command_name, []).append(provider)
                if len(owners[command_name]) == 1:
                    cli.add_command(command, command_name)
        for command_name, providers in owners.items():
            if len(providers) > 1:
                self._command_clash(cli, Conflict("command", command_name, tuple(providers)))

    def _command_clash(self, cli: Any, conflict: Conflict) -> None:
        """Record a command clash; a name plugins alone claim answers with its message."""
        if strict_mode():
            raise PluginError(conflict.message())
        self.conflicts[("command", conflict.name)] = conflict
        if conflict.providers[0].plugin == "builtin":
            return  # the built-in command keeps its name

        def refuse() -> None:
            raise ZooError(conflict.message())

        cli.add_command(click.Command(conflict.name, callback=refuse,
                                      help="(two plugins define this command; see zoo list)"))

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
        raise ZooError(f"no {kind} {name!r}; available: {available}{self._broken_note()}")

    def get_recorded(self, kind: str, name: str, recorded: Any, made: str) -> Component:
        """The component a run or export was ``made`` with (``"this run"``), by name.

        ``recorded`` is the provider record the run or export stored (see
        :meth:`Provider.record`), or None for one made before zoo recorded
        providers. If the component is missing, the error also names the
        package that provided it, and how to get it back.
        """
        try:
            return self.get(kind, name)
        except ZooError as error:
            provider = Provider.from_record(recorded)
            if provider is None or (kind, name) in self.conflicts:
                raise
            raise ZooError(f"{error}; {made} was made with it from "
                           f"{_how_to_get_back(provider)}") from None

    def get_pretrained(self, name: str) -> PretrainedModel:
        """The trained model registered as ``name``, or a ZooError naming those there are."""
        if (PRETRAINED, name) in self.conflicts:
            raise ZooError(self.conflicts[(PRETRAINED, name)].message())
        if name in self.pretrained:
            return self.pretrained[name]
        available = ", ".join(sorted(self.pretrained)) or \
            "none installed (pip install zoo-lm-pretrained)"
        raise ZooError(f"no run directory or pretrained model {name!r}; pretrained models: "
                       f"{available}{self._broken_note()}")

    def _broken_note(self) -> str:
        """``; broken plugins that may provide it: ...`` for a name not found, or nothing."""
        if not self.broken:
            return ""
        plugins = ", ".join(f"{b.provider.plugin} ({b.error})" for b in self.broken)
        return f"; broken plugins that may provide it: {plugins}"

    def select_pretrained(self, pattern: str | None = None) -> list[PretrainedModel]:
        """The trained models whose names match a glob or substring, by name."""
        return [model for name, model in sorted(self.pretrained.items())
                if not pattern or _matches(name, pattern)]

    def provider_of(self, kind: str, name: str) -> Provider | None:
        """The provider of a registered component, or None if there is no such component."""
        component = self.components.get((kind, name))
        return None if component is None else component.provider

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


def _how_to_get_back(provider: Provider) -> str:
    """``"DIST VERSION"`` and the way to install it again, for a missing component's error."""
    made_with = f"{provider.distribution} {provider.version}"
    try:
        installed = metadata.version(provider.distribution)
    except metadata.PackageNotFoundError:
        return f"{made_with}: pip install {provider.requirement()!r}"
    if installed == provider.version:
        return (f"{made_with}, which is installed but did not register it: "
                "see the broken plugins in `zoo list`, and ZOO_DISABLE_PLUGINS")
    return (f"{made_with}; {provider.distribution} {installed} is installed but did not "
            f"register it: pip install '{provider.distribution}=={provider.version}'")


def _matches(name: str, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


def _provider_of(entry_point: EntryPointLike) -> Provider:
    dist = getattr(entry_point, "dist", None)
    return Provider(
        plugin=entry_point.name,
        distribution=getattr(dist, "name", None) or UNKNOWN,
        version=getattr(dist, "version", None) or UNKNOWN,
    )


def call_one_plugin(
    plugin_manager: pluggy.PluginManager, hook_name: str, plugin: object, **arguments: Any
) -> list[Any]:
    """Call ``plugin``'s implementation of a hook (if any) through pluggy, and no one else's.

    pluggy passes each implementation only the arguments it declares, so a
    hook that gains an argument keeps working with implementations written
    before.
    """
    others = [p for p in plugin_manager.get_plugins() if p is not plugin]
    caller = plugin_manager.subset_hook_caller(hook_name, remove_plugins=others)
    results: list[Any] = caller(**arguments)
    return results


def _check_registration(
    kind: str, name: Any, summary: Any, config: Any, factory: Any
) -> None:
    """Raise :class:`PluginError` naming what is malformed in one registration."""
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise PluginError(
            f"{kind} name {name!r} is not valid: use lowercase letters, digits, '.', '_', '-'"
        )
    _check_summary(kind, name, summary)
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


def _check_summary(kind: str, name: str, summary: Any) -> None:
    if not isinstance(summary, str) or not summary.strip() or "\n" in summary.strip():
        raise PluginError(f"{kind} {name!r} needs a one-line summary string")


def checked_train_defaults(kind: str, name: str, train_defaults: Any) -> dict[str, Any]:
    """``train_defaults`` converted to the types of :class:`~zoo.config.training.TrainConfig`.

    Raises :class:`PluginError` for a kind other than architecture, a key that
    is not a train-section field, or a value the training loop cannot use.
    """
    if train_defaults is None:
        return {}
    if kind != "architecture":
        raise PluginError(f"{kind} {name!r}: train_defaults is only for architectures; "
                          "remove it from this register() call")
    if not isinstance(train_defaults, Mapping) or not all(
        isinstance(key, str) for key in train_defaults
    ):
        raise PluginError(f"{kind} {name!r}: train_defaults must be a dict of train-section keys")
    try:
        train = apply_values(TrainConfig(), dict(train_defaults), "train", "the training loop")
        check_schedule(train)
    except ZooError as error:
        raise PluginError(f"{kind} {name!r} has bad train_defaults: {error}") from None
    return {key: getattr(train, key) for key in train_defaults}


class _Registration:
    """The ``register`` callable one plugin's hook receives for one kind of component."""

    def __init__(self, kind: str, provider: Provider, staged: list[Component]) -> None:
        self.kind = kind
        self.provider = provider
        self.staged = staged

    def __call__(
        self,
        name: str,
        *,
        summary: str,
        config: type[Any],
        factory: Callable[..., Any] | str,
        train_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        _check_registration(self.kind, name, summary, config, factory)
        defaults = checked_train_defaults(self.kind, name, train_defaults)
        if any(c.kind == self.kind and c.name == name for c in self.staged):
            raise PluginError(f"registers {self.kind} {name!r} twice")
        self.staged.append(Component(
            self.kind, name, summary.strip(), config, factory, self.provider, defaults
        ))


class _PretrainedRegistration:
    """The ``register`` callable one plugin's ``zoo_register_pretrained`` receives."""

    def __init__(self, provider: Provider, staged: list[PretrainedModel]) -> None:
        self.provider = provider
        self.staged = staged

    def __call__(self, name: str, *, summary: str, directory: str | os.PathLike[str],
                 sha256: Mapping[str, str]) -> None:
        if not isinstance(name, str) or not PRETRAINED_NAME.match(name):
            raise PluginError(f"pretrained name {name!r} is not valid: use ARCHITECTURE/DATASET "
                              "with an optional -VARIANT, in lowercase letters, digits, "
                              "'.', '_', '-' (e.g. 'gru-tied/tinyshakespeare')")
        _check_summary(PRETRAINED, name, summary)
        if any(model.name == name for model in self.staged):
            raise PluginError(f"registers pretrained {name!r} twice")
        self.staged.append(PretrainedModel(
            name, summary.strip(), checked_directory(name, directory, sha256),
            dict(sha256), self.provider))


def checked_directory(name: str, directory: Any, sha256: Any) -> Path:
    """The registered directory of pretrained ``name``, absolute; :class:`PluginError` if a
    file it must have is missing, or ``sha256`` is not a digest for each file it names."""
    if not isinstance(directory, (str, os.PathLike)):
        raise PluginError(f"pretrained {name!r}: directory must be a path, got {directory!r}")
    folder = Path(directory).absolute()
    if not folder.is_dir():
        raise PluginError(f"pretrained {name!r}: its directory {str(folder)!r} is missing; "
                          "reinstall the package")
    if not isinstance(sha256, Mapping) or not sha256:
        raise PluginError(f"pretrained {name!r}: sha256 must map each file to its digest")
    for relative, digest in sha256.items():
        parts = Path(str(relative)).parts
        if not isinstance(relative, str) or Path(relative).is_absolute() or ".." in parts:
            raise PluginError(f"pretrained {name!r}: sha256 names {relative!r}, which is not a "
                              "path inside its directory")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise PluginError(f"pretrained {name!r}: the sha256 of {relative!r} is not 64 "
                              "lowercase hex digits")
        if not (folder / relative).is_file():
            raise PluginError(f"pretrained {name!r}: its file {relative!r} is missing from "
                              f"{str(folder)!r}; reinstall the package")
    needed = [f for f in PRETRAINED_FILES if f not in sha256]
    if not any(relative.startswith("tokenizer/") for relative in sha256):
        needed.append("tokenizer/")
    if needed:
        raise PluginError(f"pretrained {name!r} registers no sha256 for {', '.join(needed)}; "
                          "a pretrained model is a whole run directory with its MODEL.md")
    return folder


def _unknown_hook_message(hook_name: str, known: list[str]) -> str:
    """``unknown hook 'X'; did you mean 'Y'?`` (or the list of hooks when none is close)."""
    nearest = difflib.get_close_matches(hook_name, known, n=1)
    if nearest:
        return f"unknown hook {hook_name!r}; did you mean {nearest[0]!r}?"
    return f"unknown hook {hook_name!r}; the hooks are {', '.join(known)}"


def _check_hook_names(plugin_manager: pluggy.PluginManager, module: object) -> None:
    """Raise :class:`PluginError` if the newly registered ``module`` implements an unknown hook."""
    try:
        plugin_manager.check_pending()
    except pluggy.PluginValidationError as error:
        hooks = vars(plugin_manager.hook).items()
        known = sorted(name for name, caller in hooks
                       if not name.startswith("_") and caller.has_spec())
        unknown = sorted(caller.name for caller in plugin_manager.get_hookcallers(module) or []
                         if not caller.has_spec())
        if not unknown:
            raise
        message = "; ".join(_unknown_hook_message(name, known) for name in unknown)
        raise PluginError(message) from error


def _register_module(
    provider: Provider, module: object, plugin_manager: pluggy.PluginManager
) -> None:
    """Add ``module`` to pluggy, refusing hooks that do not exist or take unknown arguments."""
    try:
        plugin_manager.register(module, name=provider.plugin)
    except pluggy.PluginValidationError as error:  # pluggy's message spans several lines
        raise PluginError("; ".join(line.strip() for line in str(error).splitlines())) from None
    _check_hook_names(plugin_manager, module)


def _stage_plugin(
    provider: Provider, module: Any, plugin_manager: pluggy.PluginManager
) -> tuple[list[Component], list[PretrainedModel]]:
    """Run one plugin's registration hooks and return what it registered."""
    required = getattr(module, "ZOO_PLUGIN_API", 1)
    if not isinstance(required, int) or required > PLUGIN_API_VERSION:
        raise PluginError(
            f"needs zoo plugin API {required}, this zoo provides {PLUGIN_API_VERSION}; "
            "upgrade zoo-lm or install an older version of the plugin"
        )
    _register_module(provider, module, plugin_manager)
    staged: list[Component] = []
    for kind, hook_name in KIND_HOOKS.items():
        register: Register = _Registration(kind, provider, staged)
        call_one_plugin(plugin_manager, hook_name, module, register=register)
    models: list[PretrainedModel] = []
    register_model: RegisterPretrained = _PretrainedRegistration(provider, models)
    call_one_plugin(plugin_manager, PRETRAINED_HOOK, module, register=register_model)
    return staged, models


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
            staged, models = _stage_plugin(provider, module, plugin_manager)
        except Exception as error:
            if plugin_manager.has_plugin(provider.plugin):
                plugin_manager.unregister(name=provider.plugin)
            if strict:
                raise
            registry.broken.append(BrokenPlugin(provider, f"{type(error).__name__}: {error}"))
            continue
        registry.providers[provider.plugin] = provider
        for component in staged:
            owners.setdefault((component.kind, component.name), []).append(provider)
            registry.components.setdefault((component.kind, component.name), component)
        for model in models:
            owners.setdefault((PRETRAINED, model.name), []).append(provider)
            registry.pretrained.setdefault(model.name, model)

    for key, providers in owners.items():
        if len(providers) > 1:
            conflict = Conflict(key[0], key[1], tuple(providers))
            if strict:
                raise PluginError(conflict.message())
            registry.conflicts[key] = conflict
            if key[0] == PRETRAINED:
                del registry.pretrained[key[1]]
            else:
                del registry.components[key]
    return registry

_default_registry: Registry | None = None


def default_registry() -> Registry:
    """The registry of the installed plugins, loaded once per process on first use."""
    global _default_registry
    if _default_registry is None:
        _default_registry = load_registry()
    return _default_registry
