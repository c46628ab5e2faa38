"""Split one corpus string into training and validation text."""

from __future__ import annotations


def split_text(text: str, val_fraction: float) -> dict[str, str]:
    """First ``1 - val_fraction`` of the characters train, the rest validate (nanoGPT's split).

    The cut is made exactly at ``int(len(text) * (1 - val_fraction))`` so that a
    corpus split here matches the standard split of the same file elsewhere.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    cut = int(len(text) * (1.0 - val_fraction))
    return {"train": text[:cut], "val": text[cut:]}
