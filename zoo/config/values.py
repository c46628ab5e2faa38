"""Config values: checking a value against its dataclass field, ``--set`` overrides and TOML.

Each config dataclass states its own constraints in ``__post_init__``, with
:func:`require` (a range) or by raising :class:`InvalidValue` (any other
rule), so a config cannot be built with a value its component cannot use;
:func:`apply_values` turns a violation into a ZooError naming
``section.key``, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, published as tomli
    import tomli as tomllib

from zoo.config.sections import SECTIONS
from zoo.errors import ZooError


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


def field_comments(config_class: type) -> dict[str, str]:
    """The ``# comment`` after each field of a config dataclass, the field's documentation."""
    try:
        source = inspect.getsource(config_class)
    except (OSError, TypeError):
        return {}
    return dict(re.findall(r"^\s+(\w+)\s*:[^#\n]*#\s*(.+)$", source, re.MULTILINE))
