"""Run configuration: four dataclass sections, ``model``, ``tokenizer``, ``dataset``, ``train``.

``model``, ``tokenizer`` and ``dataset`` hold the config dataclass of the chosen
component; ``train`` holds :class:`TrainConfig`. Values come, later winning,
from the dataclass defaults, a TOML file, the CLI shortcuts and
``--set section.key=value``. Every key and value is checked against the
dataclass, and a mistake is one line naming the bad key and the valid ones.

Each config dataclass states its own constraints in ``__post_init__``, with
:func:`require` (a range) or by raising :class:`InvalidValue` (any other
rule), so a config cannot be built with a value its component cannot use;
:func:`apply_values` turns a violation into a ZooError naming
``section.key``, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
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


class InvalidValue(ZooError, ValueError):
    """A config field's value is outside what its dataclass allows (a ZooError on its own too)."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not allowed; it must be {allowed}")


def require(
    config: Any,
    key: str,
    *,
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
    below: float | None = None,
) -> None:
    """Raise :class:`InvalidValue` unless number ``config.key`` lies in the given range.

    A number must be finite (no NaN, no infinity); ``None`` passes (an unset
    optional value). Call it from a config dataclass's ``__post_init__``::

        def __post_init__(self) -> None:
            require(self, "layers", at_least=1)
            require(self, "dropout", at_least=0, below=1)
    """
    value = getattr(config, key)
    if value is None:
        return
    bounds = [f"at least {at_least:g}" if at_least is not None else "",
              f"above {above:g}" if above is not None else "",
              f"at most {at_most:g}" if at_most is not None else "",
              f"below {below:g}" if below is not None else ""]
    allowed = " and ".join(b for b in bounds if b) or "a finite number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(key, value, f"a number, {allowed}")
    if not math.isfinite(value) or (
        (at_least is not None and value < at_least)
        or (above is not None and value <= above)
        or (at_most is not None and value > at_most)
        or (below is not None and value >= below)
    ):
        raise InvalidValue(key, value, allowed)


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
    init_from: str | None = None  # a run whose weights and tokenizer this one starts from
    sample_every: int = 0  # steps between samples made while training (in metrics.jsonl); 0: off
    sample_prompt: str = ""  # the text those samples continue; "" starts a new document
    sample_tokens: int = 100  # the most tokens in each of those samples
    loggers: list[str] = field(default_factory=list)  # where records go besides metrics.jsonl

    def __post_init__(self) -> None:
        for key in ("steps", "batch_size", "block_size", "eval_interval", "eval_batches",
                    "log_interval"):
            require(self, key, at_least=1)
        require(self, "lr", above=0)
        require(self, "sample_tokens", at_least=1)
        for key in ("min_lr", "warmup_steps", "weight_decay", "grad_clip", "max_seconds",
                    "sample_every"):
            require(self, key, at_least=0)
        require(self, "beta1", at_least=0, below=1)
        require(self, "beta2", at_least=0, below=1)
        # numpy's generators take seeds up to 2**64 - 1; torch adds the rank to it
        require(self, "seed", at_least=0, below=2**63)


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
    try:
        return dataclasses.replace(config, **changes)
    except InvalidValue as error:
        raise ZooError(f"{section}.{error.key}={error.value!r} is not allowed for {owner}; "
                       f"it must be {error.allowed}") from None
    except (ValueError, TypeError) as error:  # a plugin's own check, without InvalidValue
        raise ZooError(f"{owner} rejects its {section} settings: {error}") from None


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
    return RunConfig(choices["model"], choices["tokenizer"], choices["dataset"], train)


def check_schedule(train: TrainConfig) -> None:
    """Refuse a cosine decay that ends above its peak (``min_lr > lr``), for a new run.

    It is checked where a run is planned, not by :class:`TrainConfig` itself, so that
    runs made before the check still load and sample.
    """
    if train.min_lr > train.lr:
        raise ZooError(f"train.min_lr={train.min_lr:g} is above train.lr={train.lr:g}, so the "
                       "learning rate would rise where it should decay; lower it as well "
                       f"(--set train.min_lr={train.lr / 10:g}, a tenth of lr)")


def check_train_config(train: TrainConfig) -> None:
    """Kept for callers of older zoo: :class:`TrainConfig` checks its values when it is built."""
    TrainConfig.__post_init__(train)
