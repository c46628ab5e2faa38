"""Stopping training from outside: Ctrl-C, SIGTERM, and what the user is told.

Torch-free, so that a command can set this up before anything heavy loads.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class TrainingInterrupted(Exception):
    """Ctrl-C or SIGTERM during training. The weights may be mid-update, so they are not
    saved: the last checkpoint written at an evaluation stays intact."""

    def __init__(self, run_dir: Path, step: int, checkpoint_step: int, *,
                 resumed: bool = False) -> None:
        if checkpoint_step:
            kept = (f"the checkpoint of step {checkpoint_step} is in {run_dir}; "
                    f"continue with --resume {run_dir}")
        elif resumed:
            kept = f"{run_dir} is as it was"
        else:
            kept = f"no checkpoint was written yet, so nothing was written to {run_dir}"
        super().__init__(f"interrupted at step {step}; {kept}")
        self.run_dir = run_dir
        self.step = step
        self.checkpoint_step = checkpoint_step


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM (``timeout``, ``docker stop``, Slurm) interrupts like Ctrl-C.

    Only where SIGTERM still has its default action and this is the main
    thread (a program's own handler is left alone); restored afterwards.
    """
    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    installed = (threading.current_thread() is threading.main_thread()
                 and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
    if installed:
        signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
