"""Run configuration: four dataclass sections, ``model``, ``tokenizer``, ``dataset``, ``train``.

``model``, ``tokenizer`` and ``dataset`` hold the config dataclass of the chosen
component; ``train`` holds :class:`TrainConfig`. Values come, later winning,
from the dataclass defaults, a TOML file, the CLI shortcuts and
``--set section.key=value``. Every key and value is checked against the
dataclass, and a mistake is one line naming the bad key and the valid ones.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, published as tomli
    import tomli as tomllib

from zoo.errors import ZooError
from zoo.registry import Registry

#: Section name -> component kind (``train`` belongs to the core).
COMPONENT_SECTIONS = {"model": "architecture", "tokenizer": "tokenizer", "dataset": "dataset"}
SECTIONS = (*COMPONENT_SECTIONS, "train")
DEFAULT_TOKENIZER = "char"
DEFAULT_DATASET = "tinyshakespeare"


@dataclass
class TrainConfig:
    """How the one training loop runs, whatever the architecture."""

    steps: int = 1200  # optimizer steps in the run
    batch_size: int = 64  # sequences per step
    block_size: int = 64  # tokens per training window (the BPTT length for RNNs)
    lr: float = 3e-3  # peak learning rate, reached after warmup
    min_lr: float = 3e-4  # learning rate at the end of the cosine decay
    warmup_steps: int | None = None  # linear warmup from 0 to lr; None: min(100, steps // 10)
    weight_decay: float = 0.01  # AdamW decoupled weight decay on matrices (not biases/norms)
    beta1: float = 0.9  # AdamW first-moment decay
    beta2: float = 0.99  # AdamW second-moment decay
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    eval_interval: int = 200  # steps between evaluations (and checkpoints)
    eval_batches: int = 16  # validation batches per evaluation
    log_interval: int = 10  # steps between training-loss lines in metrics.jsonl
    seed: int = 1337  # seeds torch and the batch sampler
    device: str = "auto"  # auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps
    stateful: bool = False  # contiguous streams with hidden state carried across batches (TBPTT)
    compile: bool = False  # wrap the model in torch.compile for training
    max_seconds: float = 0.0  # wall-clock budget; the cosine decay follows time; 0 means off


@dataclass
class ComponentChoice:
    """A chosen component and its config instance."""

    name: str
    config: Any


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
        """Rebuild from :meth:`to_dict` output, validating against the installed plugins."""
        return build_run_config(registry, data)


def _field_types(config_class: type) -> dict[str, Any]:
    hints = typing.get_type_hints(config_class)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_class)}


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce(value: Any, annotation: Any, where: str) -> Any:
    """Convert a TOML value or a ``--set`` string to ``annotation``, or raise ZooError."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if type(None) in options and (value is None or str(value).lower() in {"none", "null"}):
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(value, option, where)
            except ZooError as error:
                errors.append(str(error))
        raise ZooError(errors[0] if errors else f"{where}: cannot use {value!r}")
    if origin in (list, tuple):
        (item_type, *_) = typing.get_args(annotation) or (str,)
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ZooError(f"{where} must be a list, got {value!r}")
        converted = [coerce(item, item_type, where) for item in items if item != ""]
        return tuple(converted) if origin is tuple else converted
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ZooError(f"{where} must be true or false, got {value!r}")
    if annotation in (int, float):
        if isinstance(value, bool):
            raise ZooError(f"{where} must be {_type_name(annotation)}, got {value!r}")
        if isinstance(value, int | float) and (annotation is float or isinstance(value, int)):
            return annotation(value)
        if isinstance(value, str):
            try:
                return annotation(value)
            except ValueError:
                pass
        raise ZooError(f"{where} must be {_type_name(annotation)}, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise ZooError(f"{where} must be a string, got {value!r}")
    if typing.get_origin(annotation) is typing.Literal:
        choices = typing.get_args(annotation)
        if value in choices:
            return value
        raise ZooError(f"{where} must be one of {', '.join(map(str, choices))}, got {value!r}")
    raise ZooError(f"{where}: unsupported config type {_type_name(annotation)}")


def apply_values(config: Any, values: dict[str, Any], section: str, owner: str) -> Any:
    """Return a copy of dataclass ``config`` with ``values`` checked and applied."""
    field_types = _field_types(type(config))
    changes = {}
    for key, value in values.items():
        if key not in field_types:
            valid = ", ".join(field_types) or "none"
            raise ZooError(f"unknown key '{section}.{key}' for {owner}; valid keys: {valid}")
        changes[key] = coerce(value, field_types[key], f"{section}.{key}")
    return dataclasses.replace(config, **changes)


def parse_override(text: str, sections: tuple[str, ...] = SECTIONS) -> tuple[str, str, str]:
    """Split ``section.key=value`` (``--set``) into its three parts, or raise ZooError.

    ``sections`` are the sections the caller accepts: a run's four, or an
    exporter's ``export``.
    """
    target, sep, value = text.partition("=")
    section, dot, key = target.strip().partition(".")
    if not sep or not dot or not key.strip():
        shape = f"{sections[0]}.key=value" if len(sections) == 1 else "section.key=value"
        raise ZooError(f"--set expects {shape}, got {text!r}")
    if section not in sections:
        raise ZooError(
            f"unknown section {section!r} in --set {text}; sections: {', '.join(sections)}"
        )
    return section, key.strip(), value.strip()


def parse_overrides(
    texts: list[str] | tuple[str, ...], sections: tuple[str, ...] = SECTIONS
) -> dict[str, dict[str, str]]:
    """Section -> key -> value of ``--set section.key=value`` strings (later ones win)."""
    values: dict[str, dict[str, str]] = {section: {} for section in sections}
    for text in texts:
        section, key, value = parse_override(text, sections)
        values[section][key] = value
    return values


def choose_component(
    registry: Registry,
    kind: str,
    name: str,
    values: dict[str, Any],
    *,
    section: str,
    recorded: Any = None,
    made: str = "this run",
) -> ComponentChoice:
    """Component ``name`` of ``kind`` with its config: the defaults with ``values`` applied.

    Every key and value is checked against the component's config dataclass
    (``section`` names the keys in errors). ``recorded`` is the provider a run
    or export ``made`` with it stored, so that a missing plugin's error names
    the package to install (see :meth:`Registry.get_recorded`).
    """
    component = registry.get_recorded(kind, name, recorded, made)
    owner = f"{kind} {component.name!r}"
    config = apply_values(component.default_config(), values, section, owner)
    return ComponentChoice(component.name, config)


def read_toml(path: Path) -> dict[str, Any]:
    """Read a run config file, checking that it has only the four sections."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ZooError(f"config file {str(path)!r} not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ZooError(f"config file {str(path)!r} is not valid TOML: {error}") from None
    for section, values in data.items():
        if section not in SECTIONS or not isinstance(values, dict):
            raise ZooError(
                f"config file {str(path)!r}: unknown top-level entry {section!r}; "
                f"expected tables {', '.join('[' + s + ']' for s in SECTIONS)}"
            )
    return data


def build_run_config(
    registry: Registry,
    layers: dict[str, Any] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> RunConfig:
    """Resolve a run config from nested section dicts (TOML-shaped) and ``--set`` strings.

    A component section may carry ``name`` (the component); ``model.name`` is
    the architecture. Later overrides win.
    """
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
                                            section=section)
    train_defaults = registry.get("architecture", choices["model"].name).train_defaults
    train = apply_values(
        TrainConfig(), {**train_defaults, **values["train"]}, "train", "the training loop"
    )
    check_train_config(train)
    return RunConfig(choices["model"], choices["tokenizer"], choices["dataset"], train)


def check_train_config(train: TrainConfig) -> None:
    """Reject values the loop cannot run with, naming the key."""
    positive = [
        "steps", "batch_size", "block_size", "eval_interval", "eval_batches", "log_interval"
    ]
    for key in positive:
        if getattr(train, key) <= 0:
            raise ZooError(f"train.{key} must be positive, got {getattr(train, key)}")
    if train.lr <= 0 or train.min_lr < 0:
        raise ZooError("train.lr must be positive and train.min_lr not negative")
    if (train.warmup_steps or 0) < 0 or train.grad_clip < 0 or train.max_seconds < 0:
        raise ZooError("train.warmup_steps, grad_clip and max_seconds must not be negative")
