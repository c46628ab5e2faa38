"""What a run reports while it trains: ``metrics.jsonl``, and a progress bar or progress lines.

Every ``log_interval`` steps rank 0 records the mean training loss and
tokens/s, and at each evaluation its numbers, each with the wall time the run
has trained (carried over a resume). On a terminal, or in Jupyter, a tqdm
bar shows the step, loss and tokens/s. Where no bar can be drawn (a log file,
CI, captured output) a one-line record takes its place, every ten log
intervals or every 30 seconds, whichever comes first:

    step 400/1200 loss 1.723 14,490 tok/s 2m10s elapsed

A run with a time budget (``train.max_seconds``) shows it too (``2m10s of
5m00s elapsed``); when the budget alone ends the run, the bar's total is the
step the run reaches at its pace so far.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import torch
from tqdm.auto import tqdm

from zoo.config.training import TrainConfig
from zoo.runs.run_directory import append_metrics
from zoo.training.loggers import RunLoggers

#: Without a bar, a progress line at least every this many log intervals...
LINE_EVERY_LOGS = 10
#: ...or at the first log point this many seconds after the last line.
LINE_EVERY_SECONDS = 30.0


def progress_bar_class() -> Any:
    """tqdm's bar class where one can be drawn (a terminal, a Jupyter kernel), else None."""
    notebook = sys.modules.get("tqdm.notebook")  # imported by tqdm.auto in a Jupyter kernel only
    in_jupyter = notebook is not None and issubclass(tqdm, notebook.tqdm)
    return tqdm if in_jupyter or sys.stderr.isatty() else None


def format_duration(seconds: float) -> str:
    """``42s``, ``2m10s`` or ``1h05m``: short enough for a progress line."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


#: A window this many times slower than the run's best is taken for contention.
CONTENTION_SLOWDOWN = 3.0
#: Log windows left out of that comparison at the start (warm-up, first allocations).
CONTENTION_WARMUP_WINDOWS = 2


class TrainingProgress:
    """Records and shows a run's progress; rank 0 alone writes and prints.

    The loss is summed on the device and read back only at log points, so that
    logging costs no synchronization between them.
    """

    def __init__(
        self,
        directory: Any,
        train: TrainConfig,
        *,
        start_step: int,
        elapsed_before: float,
        device: torch.device,
        world_size: int,
        is_main: bool,
        show: bool,
        log: Callable[[str], None],
        window: dict[str, Any] | None = None,
        loggers: RunLoggers | None = None,
    ) -> None:
        # directory.path: where the run's files are now (a staged sibling until its first
        # checkpoint); window: the open log window of a resumed checkpoint (log_window())
        self.directory, self.train, self.is_main = directory, train, is_main
        self.loggers = loggers or RunLoggers([], {})  # train.loggers; the main rank's only
        self.log = log if is_main else (lambda _: None)
        self.world_size = world_size
        self.elapsed_before = elapsed_before  # seconds trained before a resume
        self.started = time.perf_counter()
        self.running_loss = torch.zeros((), device=device)  # summed over the window's steps
        self.window_start, self.window_steps = self.started, 0
        self.timed_tokens = 0  # target tokens of the window's steps in this session (tokens/s)
        if window:
            self.running_loss.fill_(float(window["loss_sum"]))
            self.window_steps = int(window["steps"])
        self.speeds: list[float] = []  # tokens/s of each logged window
        bar_class = progress_bar_class() if show and is_main else None
        self.bar = None if bar_class is None else bar_class(
            total=train.step_limit, initial=start_step, unit="step")
        self.lines = show and is_main and self.bar is None
        self.last_line = self.started
        # a CPU run whose speed falls far below its best (another program taking the cores)
        # is told once that fewer threads may help
        self.watch_contention = device.type == "cpu"

    def seconds(self) -> float:
        """Seconds since this session of training started."""
        return time.perf_counter() - self.started

    def elapsed(self) -> float:
        """Seconds the run has trained in all, across resumes (what ``max_seconds`` limits)."""
        return self.elapsed_before + self.seconds()

    def count_step(self, loss: torch.Tensor, tokens: int) -> None:
        """Add one optimizer step, its loss (a 0-d tensor, not read back here) and the
        tokens it learned from on this rank (padding left out)."""
        self.running_loss += loss.detach()
        self.window_steps += 1
        self.timed_tokens += tokens * self.world_size
        if self.bar is not None:
            self.bar.update(1)

    def log_training(self, step: int, lr: float) -> None:
        """Record the mean loss and tokens/s of the steps since the last log point."""
        now = time.perf_counter()
        loss = self.running_loss.item() / self.window_steps
        if not math.isfinite(loss):
            raise FloatingPointError(f"training loss became {loss} at step {step}; lower --lr")
        speed = self.timed_tokens / (now - self.window_start)
        self.speeds.append(speed)
        self._warn_if_slowed(step, speed)
        self.record({"step": step, "split": "train", "loss": loss, "lr": lr,
                     "tokens_per_s": speed})
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{speed:,.0f}")
            if self.train.step_limit is None:
                self.bar.total = self.expected_steps(step)
                self.bar.refresh()
        every = self.train.log_interval * LINE_EVERY_LOGS
        if self.lines and (step % every == 0 or now - self.last_line >= LINE_EVERY_SECONDS):
            limit = self.train.step_limit
            budget = self.train.max_seconds
            self.log(f"step {step}" + (f"/{limit}" if limit else "") + f" loss {loss:.3f} "
                     f"{speed:,.0f} tok/s {format_duration(self.elapsed())}"
                     + (f" of {format_duration(budget)}" if budget > 0 else "") + " elapsed")
            self.last_line = now
        self.running_loss.zero_()
        self.window_start, self.window_steps, self.timed_tokens = time.perf_counter(), 0, 0

    def _warn_if_slowed(self, step: int, speed: float) -> None:
        """Say once, in the progress output, when a CPU run has slowed to a fraction of its
        best speed: on a busy machine torch's threads wait for each other, and fewer of
        them are often many times faster (docs/benchmarks.md, Threads)."""
        if not self.watch_contention or len(self.speeds) <= CONTENTION_WARMUP_WINDOWS:
            return
        best = max(self.speeds[CONTENTION_WARMUP_WINDOWS:])
        if speed * CONTENTION_SLOWDOWN > best:
            return
        self.watch_contention = False
        threads = torch.get_num_threads()
        advice = (f"fewer threads may help: --threads {max(1, threads // 2)} (now {threads}; "
                  "with --resume too)" if threads > 1 else
                  "it trains with one thread already: free the CPU or wait")
        self.write(f"step {step}: training slowed to {speed / best:.0%} of its best speed "
                   f"({speed:,.0f} against {best:,.0f} tok/s); another program may be using "
                   f"the CPU; {advice}")

    def expected_steps(self, step: int) -> int:
        """The step a run that only its time budget ends reaches at the pace it has kept
        up to ``step`` (the bar's total)."""
        share = self.elapsed() / self.train.max_seconds  # of the budget spent
        return max(step, round(step / share)) if share > 0 else step

    def log_window(self) -> dict[str, Any]:
        """The log window still open at a checkpoint: its summed loss and its steps.

        Saved with the checkpoint, so that a resumed run's first training record
        averages the same steps as an uninterrupted run's.
        """
        return {"loss_sum": self.running_loss.item(), "steps": self.window_steps}

    def evaluation_record(self, step: int, evaluation: dict[str, float]) -> dict[str, Any]:
        """The ``metrics.jsonl`` record of an evaluation, with the run's elapsed wall time."""
        return {"step": step, "split": "val", **evaluation, "elapsed_s": self.elapsed()}

    def log_evaluation(self, record: dict[str, Any]) -> None:
        """Append an evaluation's record (once its checkpoint exists) and say it in one line."""
        self._append(record)
        self.write(f"step {record['step']}: val loss {record['loss']:.4f}, "
                   f"bits/char {record['bits_per_char']:.3f}, "
                   f"accuracy {record['accuracy']:.3f}")

    def log_sample(self, step: int, prompt: str, text: str, seconds: float) -> None:
        """Record a sample made at ``step`` (``split: "sample"``) and show it clear of the bar;
        the ``seconds`` it took stay out of the speed."""
        self.record({"step": step, "split": "sample", "prompt": prompt, "text": text})
        self.write(f"--- sample at step {step} ---\n{prompt}{text}")
        self.leave_out(seconds)

    def leave_out(self, seconds: float) -> None:
        """Keep ``seconds`` spent on other work (evaluation, checkpoints) out of the speed."""
        self.window_start += seconds

    def record(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` to ``metrics.jsonl`` with the run's elapsed wall time."""
        self._append({**entry, "elapsed_s": self.elapsed()})

    def _append(self, entry: dict[str, Any]) -> None:
        """Write ``entry`` to ``metrics.jsonl`` and hand it to the loggers (main rank only)."""
        if self.is_main:
            append_metrics(self.directory.path, entry)
            self.loggers.record(entry, self.directory)

    def write(self, text: str) -> None:
        """A message, printed clear of the bar."""
        if self.bar is None:
            self.log(text)
        else:
            with self.bar.external_write_mode():
                self.log(text)

    def tokens_per_second(self) -> float:
        """The median training speed over the logged windows."""
        return statistics.median(self.speeds) if self.speeds else 0.0

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.loggers.close(self.directory)
