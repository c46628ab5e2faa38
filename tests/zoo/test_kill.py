"""SIGKILL at many moments of ``zoo train`` and ``zoo export``: nothing half-made survives.

Each moment is an event the test watches for in the child's directories
(started; writing, i.e. a zoo temporary of the child exists; a checkpoint has
just been completed) plus a delay after it, so the kills land on the same
stages whatever the machine's speed. After every kill:

- every run or export directory that exists loads (zoo.load, zoo.load_export);
- nothing but the known files and zoo temporaries of dead processes is there;
- a new run that made no checkpoint left no directory under its name, and the
  next ``zoo train`` with the same ``--out`` is accepted (it goes on to publish).

After the next complete command in the same place, no temporary is left in the
runs' parent, the run, the export's parent or ``$ZOO_CACHE/tokens``.
Timeouts here guard against hangs only; nothing asserts on wall time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zoo.files.atomic import TEMPORARY_NAME, process_alive

pytestmark = pytest.mark.skipif(os.name == "nt", reason="needs POSIX signals")

HANG_GUARD = 600.0  # seconds; a guard against a hang, never a speed check
RUN_FILES = {"config.json", "model.safetensors", "tokenizer", "metrics.jsonl",
             "resume.safetensors"}
EXPORT_FILES = {"model.onnx", "tokenizer", "manifest.json", "initial_state"}
MODEL = ["--set", "model.embed=64", "--set", "model.hidden=256", "--batch-size", "8",
         "--block-size", "64", "--device", "cpu", "--set", "train.eval_interval=5",
         "--set", "train.eval_batches=2", "--set", "train.log_interval=3"]

#: (event, seconds after it) for the kills of training: startup, the staged run files and
#: first steps, just after the first checkpoint, then resumed runs at and after checkpoints.
TRAIN_MOMENTS = [
    ("started", 0.0), ("started", 1.0), ("started", 2.5),
    ("writing", 0.0), ("writing", 0.05), ("writing", 0.3),
    ("checkpoint", 0.0),
    ("started", 1.5), ("writing", 0.0), ("writing", 0.002), ("writing", 0.01),
    ("checkpoint", 0.0), ("checkpoint", 0.005), ("checkpoint", 0.05), ("checkpoint", 0.5),
]
#: ... and of exports: startup, and while the export's temporary directory is filled.
EXPORT_MOMENTS = [("started", 1.0), ("started", 3.0), ("writing", 0.0), ("writing", 0.1),
                  ("writing", 0.5)]
QUICK_TRAIN_MOMENTS = [("writing", 0.0), ("checkpoint", 0.0), ("writing", 0.01)]


def _default_signals() -> None:
    """Ctrl-C and SIGTERM with their default handling, whatever a background shell set."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Place:
    """The directories of one scenario: runs' parent, cache and scratch, and the commands."""

    def __init__(self, root: Path, corpus: Path) -> None:
        self.parent, self.corpus = root / "place", corpus
        self.run, self.export = self.parent / "run", self.parent / "export"
        self.cache = root / "cache"
        self.env = {**os.environ, "ZOO_CACHE": str(self.cache), "TMPDIR": str(root / "tmp")}
        self.parent.mkdir()
        (root / "tmp").mkdir()

    def train_command(self, steps: int = 100000) -> list[str]:
        """A new run into ``run`` while it has no checkpoint, else a resume: ``steps`` more."""
        zoo = [sys.executable, "-m", "zoo", "train", "gru-tied", "--no-progress"]
        if not self.run.exists():
            return [*zoo, "--data", str(self.corpus), "--out", str(self.run), *MODEL,
                    "--steps", str(steps)]
        return [*zoo, "--resume", str(self.run), "--steps", str(self.step() + steps)]

    def export_command(self) -> list[str]:
        return [sys.executable, "-m", "zoo", "export", str(self.run), "--onnx", "--out",
                str(self.export), "--parity-steps", "16"]

    def start(self, command: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(command, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)

    def step(self) -> int:
        import zoo

        return zoo.load(self.run).step

    def temporaries(self, directory: Path) -> list[Path]:
        if not directory.is_dir():
            return []
        return [p for p in directory.iterdir() if TEMPORARY_NAME.match(p.name)]

    def all_temporaries(self) -> list[Path]:
        return [*self.temporaries(self.parent), *self.temporaries(self.run),
                *self.temporaries(self.cache / "tokens")]


def _owned_by(process: subprocess.Popen[str], paths: list[Path]) -> bool:
    return any(int(TEMPORARY_NAME.match(p.name)["pid"]) == process.pid for p in paths)


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns if path.exists() else 0


def _wait_for_event(place: Place, process: subprocess.Popen[str], event: str,
                    watched: Path) -> None:
    """Return once ``event`` happened in the child (``watched``: the directory it creates)."""
    before = _mtime(place.run / "model.safetensors")
    deadline = time.monotonic() + HANG_GUARD
    while True:
        if event == "started":
            return
        if event == "writing" and _owned_by(process, [*place.temporaries(watched.parent),
                                                      *place.temporaries(watched)]):
            return
        if event == "checkpoint" and _mtime(place.run / "model.safetensors") != before:
            return
        if process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"the child ended before {event!r}: {stderr}")
        assert time.monotonic() < deadline, f"no {event!r} within the hang guard"
        time.sleep(0.001)


def _kill_at(place: Place, command: list[str], event: str, delay: float,
             watched: Path) -> str:
    """Start ``command``, SIGKILL it ``delay`` seconds after ``event``; return its stderr."""
    process = place.start(command)
    try:
        _wait_for_event(place, process, event, watched)
        time.sleep(delay)
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=HANG_GUARD)
    return stderr


def _assert_nothing_half_made(place: Place) -> None:
    """Every directory there loads; everything else is a dead process's zoo temporary."""
    import zoo

    for entry in place.parent.iterdir():
        if TEMPORARY_NAME.match(entry.name):
            assert not process_alive(int(TEMPORARY_NAME.match(entry.name)["pid"]))
        elif entry == place.run:
            assert zoo.load(place.run).step > 0
            names = {p.name for p in place.run.iterdir() if not TEMPORARY_NAME.match(p.name)}
            assert names == RUN_FILES, names
            zoo.load(place.run).metrics  # noqa: B018 - readable to the last line
        elif entry == place.export:
            zoo.load_export(place.export)
            assert {p.name for p in place.export.iterdir()} <= EXPORT_FILES
        else:
            pytest.fail(f"unexpected {entry.name!r} beside the run")


def _run_to_completion(place: Place, command: list[str]) -> None:
    result = subprocess.run(command, env=place.env, capture_output=True, text=True,
                            timeout=HANG_GUARD, preexec_fn=_default_signals)
    assert result.returncode == 0, result.stderr


def _kill_scenario(place: Place, train_moments, export_moments) -> dict[str, int]:
    """Kill training and exporting at each moment; count the kills and what they left."""
    counts = {"kills": 0, "left_temporaries": 0, "before_first_checkpoint": 0}

    def killed() -> None:
        counts["kills"] += 1
        counts["left_temporaries"] += bool(place.all_temporaries() +
                                           place.temporaries(place.export))
        _assert_nothing_half_made(place)

    published = False
    for event, delay in train_moments:
        command = place.train_command()
        new_run = "--out" in command
        stderr = _kill_at(place, command, event, delay,
                          place.run if not new_run else place.parent / "run")
        assert "already exists" not in stderr  # the same --out is reusable after a kill
        killed()
        published = published or (new_run and place.run.exists())
        counts["before_first_checkpoint"] += not place.run.exists()
    assert published, "no kill came after a new run's first checkpoint"
    _run_to_completion(place, place.train_command(steps=6))
    assert place.all_temporaries() == []
    _assert_nothing_half_made(place)

    if not export_moments:
        return counts
    for event, delay in export_moments:
        _kill_at(place, place.export_command(), event, delay, place.export)
        killed()
        if place.export.exists():  # a kill came after the rename: make the next one new
            import shutil

            shutil.rmtree(place.export)
    _run_to_completion(place, place.export_command())
    _assert_nothing_half_made(place)
    assert place.all_temporaries() == []
    return counts


def test_a_few_kills_of_training_leave_nothing_half_made(small_corpus, tmp_path):
    counts = _kill_scenario(Place(tmp_path, small_corpus), QUICK_TRAIN_MOMENTS, [])
    # the first kill, while staged, leaves a temporary and no run; the next run cleans it up
    assert counts["kills"] == 3 and counts["before_first_checkpoint"] >= 1
    assert counts["left_temporaries"] >= 1


@pytest.mark.slow
def test_kills_at_many_moments_leave_nothing_half_made(small_corpus, tmp_path):
    counts = _kill_scenario(Place(tmp_path, small_corpus), TRAIN_MOMENTS, EXPORT_MOMENTS)
    print(counts)  # -s shows how many kills left temporaries, and how many came before a run
    assert counts["kills"] == len(TRAIN_MOMENTS) + len(EXPORT_MOMENTS) == 20
    assert counts["before_first_checkpoint"] >= 1 and counts["left_temporaries"] >= 1
