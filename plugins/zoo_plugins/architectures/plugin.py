"""Entry point ``builtin-architectures``: registers the built-in architectures."""

from __future__ import annotations

from typing import Any

from zoo import hookimpl
from zoo_plugins.architectures.configs import GRUTiedConfig


@hookimpl
def zoo_register_architectures(register: Any) -> None:
    register(
        "gru-tied",
        summary="stacked GRU with tied embedding/output weights (projection if sizes differ)",
        config=GRUTiedConfig,
        factory="zoo_plugins.architectures.gru_tied:GRUTied",
    )
