"""A run's configuration and how it is assembled: four sections over the installed plugins.

``model``, ``tokenizer`` and ``dataset`` hold the config dataclass of the chosen
component; ``train`` holds :class:`~zoo.config.training.TrainConfig`. Values come,
later winning, from the dataclass defaults, a TOML file, the shortcut options
(``--steps``, ``zoo.train(steps=...)``) and ``--set section.key=value``. Every
key and value is checked against the dataclass, and a mistake is one line
naming the bad key and the valid ones.

This module sits over the registry (it looks components up); the values,
:class:`TrainConfig` and the section names below it do not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.config.sections import (
    COMPONENT_SECTIONS,
    DEFAULT_DATASET,
    DEFAULT_TOKENIZER,
    SECTIONS,
    ComponentChoice,
)
from zoo.config.training import TrainConfig
from zoo.config.values import apply_values, parse_overrides, read_toml
from zoo.errors import ZooError
from zoo.registry.host import Registry

PathLike = str | Path

#: The ``train`` keys that have options of their own: ``zoo train --steps N`` and
#: ``zoo.train(steps=N)``. Each is a :class:`TrainConfig` field, whose comment is the
#: option's help; everything else is reached with ``--set train.KEY=VALUE``.
TRAIN_SHORTCUTS = ("steps", "batch_size", "block_size", "lr", "device", "threads", "seed",
                   "stateful", "compile", "max_seconds", "sample_every", "loggers", "init_from")


@dataclass
class RunConfig:
    """Everything that defines a run; stored in the run's ``config.json``."""

    model: ComponentChoice
    tokenizer: ComponentChoice
    dataset: ComponentChoice
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for section in COMPONENT_SECTIONS:
            choice: ComponentChoice = getattr(self, section)
            data[section] = {"name": choice.name, **dataclasses.asdict(choice.config)}
        data["train"] = dataclasses.asdict(self.train)
        return data

    @classmethod
    def from_dict(cls, registry: Registry, data: dict[str, Any]) -> RunConfig:
        """Rebuild from :meth:`to_dict` output, validating against the installed plugins.

        ``data`` is a recorded config: a key it lacks (a run recorded before the
        key existed) takes its component's ``OLD_RUN_DEFAULTS`` value.
        """
        return build_run_config(registry, data, recorded=True)


def choose_component(
    registry: Registry,
    kind: str,
    name: str,
    values: dict[str, Any],
    *,
    section: str,
    recorded: Any = None,
    made: str = "this run",
    from_record: bool = False,
) -> ComponentChoice:
    """Component ``name`` of ``kind`` with its config: the defaults with ``values`` applied.

    Every key and value is checked against the component's config dataclass
    (``section`` names the keys in errors). ``recorded`` is the provider a run
    or export ``made`` with it stored, so that a missing plugin's error names
    the package to install (see :meth:`Registry.get_recorded`).

    ``from_record``: ``values`` are what a run or export recorded. A key they
    lack was added to the component after it was made, and takes the value
    in the config class's ``OLD_RUN_DEFAULTS`` (a dict, where there is one):
    the behaviour the component had before, which a new default may not keep.
    """
    component = registry.get_recorded(kind, name, recorded, made)
    owner = f"{kind} {component.name!r}"
    if from_record:
        values = {**getattr(component.config, "OLD_RUN_DEFAULTS", {}), **values}
    config = apply_values(component.default_config(), values, section, owner)
    return ComponentChoice(component.name, config)


#: A key every run's ``config.json`` holds beside its sections, and that no config file or
#: ``config_layers`` can hold (they take the four sections only).
RECORD_KEY = "vocab_size"


def build_run_config(
    registry: Registry,
    layers: dict[str, Any] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    recorded: bool | None = None,
) -> RunConfig:
    """Resolve a run config from nested section dicts (TOML-shaped) and ``--set`` strings.

    A component section may carry ``name`` (the component); ``model.name`` is
    the architecture. Later overrides win. ``recorded``: the layers are a
    run's ``config.json``, whose missing keys take their components' old
    defaults (see :func:`choose_component`); unset, layers holding
    :data:`RECORD_KEY` are one.
    """
    if recorded is None:
        recorded = RECORD_KEY in (layers or {})
    values: dict[str, dict[str, Any]] = {s: dict((layers or {}).get(s, {})) for s in SECTIONS}
    for section, changes in parse_overrides(overrides).items():
        values[section].update(changes)

    defaults = {"tokenizer": DEFAULT_TOKENIZER, "dataset": DEFAULT_DATASET}
    choices = {}
    for section, kind in COMPONENT_SECTIONS.items():
        name = values[section].pop("name", None) or defaults.get(section)
        if name is None:
            raise ZooError("no architecture given; run `zoo list --kind architecture` to see them")
        choices[section] = choose_component(registry, kind, str(name), values[section],
                                            section=section, from_record=recorded)
    train_defaults = registry.get("architecture", choices["model"].name).train_defaults
    train = apply_values(
        TrainConfig(), {**train_defaults, **values["train"]}, "train", "the training loop"
    )
    return RunConfig(choices["model"], choices["tokenizer"], choices["dataset"], train)


def as_overrides(settings: Mapping[str, Any]) -> list[str]:
    """``{"model.hidden": 512}`` -> ``["model.hidden=512"]`` (values as ``--set`` reads them)."""
    overrides = []
    for key, value in settings.items():
        if isinstance(value, list | tuple):
            value = ",".join(str(item) for item in value)
        overrides.append(f"{key}={value}")
    return overrides


def _absolute(paths: PathLike | Iterable[PathLike]) -> list[str]:
    """One path or several, each made absolute (globs too: the text dataset expands them)."""
    return [str(Path(p).absolute()) for p in ([paths] if isinstance(paths, str | Path) else paths)]


def _held_out_files(paths: PathLike | Iterable[PathLike], option: str) -> list[str]:
    """:func:`_absolute`, after checking that each file or folder exists (globs match later).

    A run reads its test files only when ``zoo eval --split test`` asks for them, so a
    mistyped name is caught here, before training, not hours later.
    """
    files = _absolute(paths)
    for file in files:
        if not any(ch in file for ch in "*?[") and not Path(file).exists():
            raise ZooError(f"{option} {file!r} does not exist; check the path")
    return files


def config_layers(architecture: str, *, dataset: str | None = None,
                  tokenizer: str | None = None, data: PathLike | Iterable[PathLike] = (),
                  val_data: PathLike | Iterable[PathLike] = (),
                  test_data: PathLike | Iterable[PathLike] = (),
                  config: PathLike | Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """TOML-shaped sections from a config file or dict and the component choices (choices win).

    ``data`` selects the ``text`` dataset on those files (a config's other
    ``text`` settings stay); ``val_data`` and ``test_data`` are the dataset's
    ``val_path`` and ``test_path``, held-out files of ``text``, ``jsonl`` or
    any dataset with those keys. All are stored as absolute paths so that
    the run evaluates from any directory.
    """
    layers: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    given = read_toml(Path(config)) if isinstance(config, str | Path) else (config or {})
    for section, values in given.items():
        if section not in SECTIONS or not isinstance(values, Mapping):
            raise ZooError(f"config has an unknown section {section!r}; sections: "
                           f"{', '.join(SECTIONS)}")
        layers[section].update(values)
    layers["model"]["name"] = architecture
    paths = _absolute(data)
    if paths:
        if dataset not in (None, "text"):
            raise ZooError(f"data= reads local files with the text dataset, not {dataset!r}")
        if layers["dataset"].get("name", "text") != "text":
            layers["dataset"] = {}  # another dataset's settings do not apply to text
        dataset = "text"
        layers["dataset"]["path"] = paths
    if dataset is not None:
        if layers["dataset"].get("name", dataset) != dataset:
            layers["dataset"] = {k: v for k, v in layers["dataset"].items() if k == "path"}
        layers["dataset"]["name"] = dataset
    held_out = {"val_path": _held_out_files(val_data, "--val-data"),
                "test_path": _held_out_files(test_data, "--test-data")}
    if any(held_out.values()) and "name" not in layers["dataset"]:
        raise ZooError("validation and test files (--val-data, --test-data) hold out part of "
                       "your own data; give its training files too: --data FILE, or --dataset "
                       "jsonl --set dataset.path=FILE")
    layers["dataset"].update({key: files for key, files in held_out.items() if files})
    if tokenizer is not None:
        if layers["tokenizer"].get("name", tokenizer) != tokenizer:
            layers["tokenizer"] = {}
        layers["tokenizer"]["name"] = tokenizer
    return layers


def shortcut_settings(given: Mapping[str, Any]) -> dict[str, Any]:
    """``{"steps": 300, "lr": None}`` -> ``{"train.steps": 300}``: the shortcuts given a value
    (an empty list of loggers counts as not given)."""
    unknown = set(given) - set(TRAIN_SHORTCUTS)
    if unknown:
        raise ValueError(f"not training shortcuts: {sorted(unknown)}")
    return {f"train.{name}": list(value) if isinstance(value, list | tuple) else value
            for name, value in given.items()
            if value is not None and not (isinstance(value, list | tuple) and not value)}
