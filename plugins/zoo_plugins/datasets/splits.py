"""Split a corpus into training and validation text, and the options document datasets share."""

from __future__ import annotations

from typing import Any

from zoo.plugin import InvalidValue, ZooError


def require_choice(config: Any, key: str, choices: tuple[str, ...]) -> None:
    """Raise :class:`InvalidValue` unless ``config.key`` is one of ``choices``.

    Call it from a config dataclass's ``__post_init__``, like ``zoo.plugin.require``.
    """
    value = getattr(config, key)
    if value not in choices:
        raise InvalidValue(key, value, f"one of {', '.join(choices)}")


def split_text(text: str, val_fraction: float) -> dict[str, str]:
    """First ``1 - val_fraction`` of the characters train, the rest validate (nanoGPT's split).

    The cut is made exactly at ``int(len(text) * (1 - val_fraction))`` so that a
    corpus split here matches the standard split of the same file elsewhere.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    cut = int(len(text) * (1.0 - val_fraction))
    return {"train": text[:cut], "val": text[cut:]}


def split_documents(documents: list[str], val_fraction: float, source: str,
                    way_out: str = "give more data") -> dict[str, list[str]]:
    """First ``1 - val_fraction`` of the documents train, the rest validate; none is cut.

    The cut is at ``int(len(documents) * (1 - val_fraction))``, moved where
    needed so that each split holds at least one document. ``source`` says
    where the documents came from and ``way_out`` what to do, for the error
    when there are fewer than two.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    if len(documents) < 2:
        raise ZooError(f"{source} gives {len(documents)} document(s); training and validation "
                       f"need at least 2; {way_out}")
    cut = min(max(int(len(documents) * (1.0 - val_fraction)), 1), len(documents) - 1)
    return {"train": documents[:cut], "val": documents[cut:]}
