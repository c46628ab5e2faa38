"""The ``tensorboard`` logger: a run's curves and samples as TensorBoard event files.

Writes ``RUN/tensorboard/`` with PyTorch's ``SummaryWriter`` (which needs the
``tensorboard`` package: ``pip install 'zoo-lm[tensorboard]'``). Every number
of a ``train`` or ``val`` record becomes a scalar ``split/key`` at its step
(``val/loss``, ``train/tokens_per_s``); every sample recorded while training
becomes text under ``samples``. Open it with ``tensorboard --logdir RUN``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.plugin import ZooError

#: The folder inside the run that the event files go to.
FOLDER = "tensorboard"


@dataclass
class TensorBoardConfig:
    """The tensorboard logger has no options: it writes RUN/tensorboard."""


class TensorBoardLogger:
    """Forwards each record of ``metrics.jsonl`` to a TensorBoard ``SummaryWriter``."""

    def __init__(self, config: TensorBoardConfig) -> None:
        self.config = config
        self.writer: Any = None

    def start(self, run_dir: Path, run_config: dict[str, Any]) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ZooError("the tensorboard logger needs the tensorboard package: "
                           "pip install 'zoo-lm[tensorboard]'") from None
        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / FOLDER))
        self.writer.add_text("config", f"```\n{run_config}\n```", 0)

    def record(self, entry: dict[str, Any]) -> None:
        step, split = int(entry["step"]), entry.get("split")
        if split == "sample":
            self.writer.add_text("samples", f"{entry.get('prompt', '')}{entry['text']}", step)
            return
        for key, value in entry.items():
            if key not in ("step", "split") and isinstance(value, int | float) \
                    and not isinstance(value, bool):
                self.writer.add_scalar(f"{split}/{key}", value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
