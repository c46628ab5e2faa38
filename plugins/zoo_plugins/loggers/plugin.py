"""Entry point ``builtin-loggers``: registers the built-in loggers."""

from __future__ import annotations

from zoo import Register, hookimpl
from zoo_plugins.loggers.tensorboard import TensorBoardConfig

ZOO_PLUGIN_API = 2  # loggers came with plugin API 2


@hookimpl
def zoo_register_loggers(register: Register) -> None:
    register(
        "tensorboard",
        summary="TensorBoard event files in RUN/tensorboard: curves and samples (pip install "
                "'zoo-lm[tensorboard]')",
        config=TensorBoardConfig,
        factory="zoo_plugins.loggers.tensorboard:TensorBoardLogger",
    )
