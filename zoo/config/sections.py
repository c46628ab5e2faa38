"""The four sections of a run's config and the component chosen for each (below the registry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Section name -> component kind (``train`` belongs to the core).
COMPONENT_SECTIONS = {"model": "architecture", "tokenizer": "tokenizer", "dataset": "dataset"}
SECTIONS = (*COMPONENT_SECTIONS, "train")
DEFAULT_TOKENIZER = "char"
DEFAULT_DATASET = "tinyshakespeare"


@dataclass
class ComponentChoice:
    """A chosen component and its config instance."""

    name: str
    config: Any
