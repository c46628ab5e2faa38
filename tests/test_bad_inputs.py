"""Every bad input is one line and exit code 2, and leaves every file as it was.

One row per case of issues 11 and 20: damaged run files (weights or a resume
state of another model's size among them), damaged export files, each bad
config value, and the environment's failures (a read-only --out, a full disk
while a checkpoint is written, as Python or safetensors reports it, a
diverging loss). Each row damages a private copy of a small run or export,
hashes the run and the export before and after, and checks that the command's
output directory never appears.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import importlib
import io
import json
import os
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from cli_errors import one_line_error
from docs_pages import page
from zoo.cli import cli


def tree_hash(directory: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``directory`` (directories as themselves)."""
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(directory.rglob("*"))}


def truncate(path: Path) -> None:
    """Keep the first half of ``path``: what a copy cut off mid-way leaves."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def scramble(path: Path) -> None:
    """Replace ``path`` with random bytes of the same length."""
    path.write_bytes(random.Random(path.name).randbytes(path.stat().st_size))


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    """Rewrite the JSON in ``path`` with ``change`` applied (it edits in place or returns)."""
    data = json.loads(path.read_text("utf-8"))
    changed = change(data)
    path.write_text(json.dumps(data if changed is None else changed), "utf-8")


def after_training_started(result: Any) -> SimpleNamespace:
    """``result`` without the progress lines ``zoo train`` prints while it trains.

    A failure during training (a full disk, a diverging loss) follows the
    line that starts training and perhaps an evaluation's line; the error
    itself must still be one line with no traceback.
    """
    lines = [line for line in result.stderr.splitlines(keepends=True)
             if not re.match(r"(\S+: [\d.]+M parameters, vocab |step \d+: val loss )", line)]
    return SimpleNamespace(exit_code=result.exit_code, stdout=result.stdout,
                           stderr="".join(lines))


@dataclass
class Case:
    """What one row works on, and what it must leave alone."""

    run: Path  # a private copy of a trained run
    export: Path  # a private copy of an ONNX export of it
    tmp: Path
    corpus: Path
    tiny_run: list[str]
    monkeypatch: pytest.MonkeyPatch
    absent: list[Path] = field(default_factory=list)  # outputs that must not appear

    @property
    def out(self) -> Path:
        """A fresh output path; the failed command must not create it."""
        path = self.tmp / "out"
        self.absent.append(path)
        return path

    def train(self, *args: str, architecture: str = "gru-tied") -> list[str]:
        return ["train", architecture, "--data", str(self.corpus), "--out", str(self.out),
                *self.tiny_run, *args]

    def resume(self) -> list[str]:
        return ["train", "gru-tied", "--resume", str(self.run), "--steps", "16",
                "--no-progress"]

    def sample_onnx(self) -> list[str]:
        return ["sample", "--onnx", str(self.export), "--max-new-tokens", "5", "--seed", "0"]

    def read_only(self) -> Path:
        """An --out inside a directory nothing can be created in."""
        parent = self.tmp / "read-only"
        parent.mkdir()
        self.forbid_writes(parent)
        self.absent.append(parent / "out")
        return parent / "out"

    def forbid_writes(self, parent: Path) -> None:
        """Make creating anything in ``parent`` fail with EROFS, as on a read-only mount."""
        parent.chmod(0o555)  # enough for a user; root ignores modes, so creation fails below
        real_mkdir, real_open = os.mkdir, os.open

        def inside(path: Any) -> bool:
            return Path(os.fsdecode(path)).resolve().is_relative_to(parent.resolve())

        def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
            if inside(path):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
            real_mkdir(path, *args, **kwargs)

        def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & os.O_CREAT and inside(path):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
            return real_open(path, flags, *args, **kwargs)

        self.monkeypatch.setattr(os, "mkdir", mkdir)
        self.monkeypatch.setattr(os, "open", open_)
        for name in ("rename", "replace"):
            real = getattr(os, name)

            def move(source: Any, target: Any, *args: Any, real: Any = real, **kwargs: Any
                     ) -> None:
                if inside(target) or inside(source):
                    raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(target))
                real(source, target, *args, **kwargs)

            self.monkeypatch.setattr(os, name, move)
        real_io_open = io.open

        def open_file(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, str | bytes | os.PathLike) and set(mode) & set("wax+") \
                    and inside(file):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(file))
            return real_io_open(file, mode, *args, **kwargs)

        self.monkeypatch.setattr(io, "open", open_file)
        self.monkeypatch.setattr(builtins, "open", open_file)


def read_only_run(c: Case) -> list[str]:
    """--resume of a run whose directory cannot be written."""
    command = c.resume()
    c.forbid_writes(c.run)
    return command


def disk_full_at_checkpoint(c: Case) -> list[str]:
    """The checkpoint's write runs out of space half-way (ENOSPC), as on a full disk."""
    import zoo.models.loading

    real_save = zoo.models.loading.save_file

    def save_file(tensors: Any, filename: Any, *args: Any, **kwargs: Any) -> None:
        real_save(tensors, filename, *args, **kwargs)
        truncate(Path(filename))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    c.monkeypatch.setattr(zoo.models.loading, "save_file", save_file)
    return c.train()


def disk_full_in_safetensors(c: Case) -> list[str]:
    """safetensors' own writer runs out of space half-way and says so in its own error type
    (a SafetensorError, not an OSError), as it does on a full disk."""
    import safetensors
    import safetensors.torch

    real_serialize = safetensors.torch.serialize_file

    def serialize_file(tensors: Any, filename: Any, *args: Any, **kwargs: Any) -> None:
        real_serialize(tensors, filename, *args, **kwargs)
        truncate(Path(filename))
        raise safetensors.SafetensorError(
            "Error while serializing: I/O error: No space left on device (os error 28)")

    c.monkeypatch.setattr(safetensors.torch, "serialize_file", serialize_file)
    return c.train()


def disk_full_at_flush(c: Case) -> list[str]:
    """Flushing files to disk (fsync) fails with ENOSPC, as a full disk may report it."""
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    c.monkeypatch.setattr(os, "fsync", fsync)
    return c.train()


def onnx_not_a_model(c: Case) -> list[str]:
    """model.onnx replaced by other bytes, its sha256 fixed up in the manifest to match."""
    model = c.export / "model.onnx"
    model.write_bytes(b"this is not an ONNX model\n" * 40)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    edit_json(c.export / "manifest.json", lambda m: m.update(model_sha256=digest))
    return c.sample_onnx()


def onnx_fails_when_run(c: Case) -> list[str]:
    """A well-formed model.onnx whose index constant points outside its tensor, so it loads
    and then fails inside onnxruntime on the first step; its sha256 fixed up to match."""
    import onnx
    from onnx import numpy_helper

    model_path = c.export / "model.onnx"
    model = onnx.load(str(model_path))
    gather_indices = {node.input[1] for node in model.graph.node if node.op_type == "Gather"}
    constant = next(node for node in model.graph.node
                    if node.op_type == "Constant" and node.output[0] in gather_indices)
    value = numpy_helper.to_array(constant.attribute[0].t)
    constant.attribute[0].t.CopyFrom(numpy_helper.from_array(value * 0 + 10_000))
    onnx.save(model, str(model_path))
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    edit_json(c.export / "manifest.json", lambda m: m.update(model_sha256=digest))
    return c.sample_onnx()


def state_shape_edited(c: Case) -> list[str]:
    """The manifest's shape of the first state tensor is one wider than the model's."""
    def widen(manifest: dict[str, Any]) -> None:
        name = manifest["state"][0]["input"]
        entry = next(e for e in manifest["inputs"] if e["name"] == name)
        entry["shape"][-1] += 1
    edit_json(c.export / "manifest.json", widen)
    return c.sample_onnx()


def metrics_damaged_mid_file(c: Case) -> list[str]:
    """A garbled line that is not the last one: not a torn append, so it is reported."""
    path = c.run / "metrics.jsonl"
    lines = path.read_text("utf-8").splitlines()
    lines[1] = lines[1][: len(lines[1]) // 2]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return c.resume()


def resume_state_of_another_size(c: Case) -> list[str]:
    """resume.safetensors copied in from a run of the same architecture with a wider model."""
    wider = c.tmp / "wider"
    trained = CliRunner().invoke(cli, ["train", "gru-tied", "--data", str(c.corpus), "--out",
                                       str(wider), *c.tiny_run, "--set", "model.hidden=64"])
    assert trained.exit_code == 0, trained.output
    shutil.copyfile(wider / "resume.safetensors", c.run / "resume.safetensors")
    shutil.rmtree(wider)
    return c.resume()


def different_model_size(c: Case) -> list[str]:
    """config.json says a wider model than the weights in model.safetensors hold."""
    edit_json(c.run / "config.json", lambda cfg: cfg["model"].update(hidden=64))
    return ["sample", str(c.run), "--max-new-tokens", "5"]


def eval_(c: Case) -> list[str]:
    return ["eval", str(c.run), "--no-progress"]


def damage_then(damage: Callable[[Case], None], command: Callable[[Case], list[str]]
                ) -> Callable[[Case], list[str]]:
    def case(c: Case) -> list[str]:
        damage(c)
        return command(c)
    return case


#: id -> (what the case does to its copies and the command it runs, words its line must hold)
CASES: dict[str, tuple[Callable[[Case], list[str]], tuple[str, ...]]] = {
    # a damaged run
    "model.safetensors truncated": (
        damage_then(lambda c: truncate(c.run / "model.safetensors"), eval_),
        ("model.safetensors", "is damaged", "re-train")),
    "model.safetensors random bytes": (
        damage_then(lambda c: scramble(c.run / "model.safetensors"), eval_),
        ("model.safetensors", "is damaged", "re-train")),
    "resume.safetensors truncated": (
        damage_then(lambda c: truncate(c.run / "resume.safetensors"), Case.resume),
        ("resume.safetensors", "is damaged", "restore it from a copy")),
    "resume.safetensors random bytes": (
        damage_then(lambda c: scramble(c.run / "resume.safetensors"), Case.resume),
        ("resume.safetensors", "is damaged", "restore it from a copy")),
    "config.json not JSON": (
        damage_then(lambda c: (c.run / "config.json").write_text("{not json", "utf-8"), eval_),
        ("config.json", "is damaged", "restore it from a copy")),
    "config.json a JSON list": (
        damage_then(lambda c: edit_json(c.run / "config.json", lambda cfg: [cfg]), eval_),
        ("config.json", "is damaged", "a JSON list")),
    "config.json without vocab_size": (
        damage_then(lambda c: edit_json(c.run / "config.json", lambda cfg: cfg.pop("vocab_size")
                                        and None), eval_),
        ("config.json", "'vocab_size' is missing")),
    "tokenizer/ missing": (
        damage_then(lambda c: shutil.rmtree(c.run / "tokenizer"), eval_),
        ("tokenizer", "is missing", "re-train")),
    "tokenizer JSON invalid": (
        damage_then(lambda c: (c.run / "tokenizer" / "char.json").write_text("[1, 2", "utf-8"),
                    eval_),
        ("tokenizer", "is damaged", "re-train")),
    "weights of a differently sized model": (
        different_model_size,
        ("model.safetensors does not fit the model config.json describes",
         "is [144, 32] in model.safetensors, [192, 32] in the model",
         "restore the run's config.json and model.safetensors from a copy")),
    "resume state of a differently sized model, on --resume": (
        resume_state_of_another_size,
        ("resume.safetensors does not fit the model config.json describes",
         "gru.weight_ih_l0 is [192, 32] in resume.safetensors, [144, 32] in the model",
         "restore the run's resume.safetensors from a copy", "--init-from")),
    "metrics.jsonl damaged before its last line, on --resume": (
        metrics_damaged_mid_file, ("metrics.jsonl", "is damaged", "delete line 2")),
    # a damaged export
    "model.onnx not a model, sha256 fixed up": (
        onnx_not_a_model, ("model.onnx", "is damaged", "re-export")),
    "model.onnx fails when run, sha256 fixed up": (
        onnx_fails_when_run, ("model.onnx", "is damaged", "re-export")),
    "manifest.json not JSON": (
        damage_then(lambda c: (c.export / "manifest.json").write_text("{", "utf-8"),
                    Case.sample_onnx),
        ("manifest.json", "is damaged", "re-export")),
    "manifest.json without state": (
        damage_then(lambda c: edit_json(c.export / "manifest.json", lambda m: m.pop("state")
                                        and None), Case.sample_onnx),
        ("manifest.json", "'state' is missing", "re-export")),
    "manifest.json state with a wire left out": (
        damage_then(lambda c: edit_json(c.export / "manifest.json", lambda m: m.update(state=[])),
                    Case.sample_onnx),
        ("manifest.json", "is damaged", "wires no output to h")),
    "manifest.json state shape edited": (
        state_shape_edited, ("manifest.json", "has shape", "re-export")),
    # bad config values
    "dataset.val_fraction=1.5": (
        lambda c: c.train("--set", "dataset.val_fraction=1.5"),
        ("dataset.val_fraction=1.5", "above 0 and below 1")),
    "--lr nan": (lambda c: c.train("--lr", "nan"), ("train.lr=nan", "above 0")),
    "--lr below the default min_lr": (
        lambda c: c.train("--lr", "5e-5"),
        ("train.min_lr=0.0001 is above train.lr=5e-05", "--set train.min_lr=5e-06")),
    "model.layers=0": (
        lambda c: c.train("--set", "model.layers=0"), ("model.layers=0", "at least 1")),
    "model.dropout=2": (
        lambda c: c.train("--set", "model.dropout=2"), ("model.dropout=2", "below 1")),
    "transformer embed not a multiple of heads": (
        lambda c: ["train", "transformer", "--data", str(c.corpus), "--out", str(c.out),
                   "--set", "model.embed=30", "--set", "model.heads=4"],
        ("model.embed=30", "multiple of model.heads (4)")),
    "train --seed -1": (lambda c: c.train("--seed", "-1"), ("train.seed=-1", "at least 0")),
    "sample --seed -1": (
        lambda c: ["sample", str(c.run), "--seed", "-1"], ("--seed", "-1")),
    "export --opset 5": (
        lambda c: ["export", str(c.run), "--onnx", "--out", str(c.out), "--opset", "5"],
        ("export.opset=5", "at least 7")),
    "export --opset 99": (
        lambda c: ["export", str(c.run), "--onnx", "--out", str(c.out), "--opset", "99"],
        ("export.opset=99", "at most")),
    # the environment
    "compare --plot x.txt": (
        lambda c: ["compare", str(c.run), "--plot", str(c.tmp / "x.txt")], ("--plot", "x.txt")),
    "read-only --out for train": (
        lambda c: ["train", "gru-tied", "--data", str(c.corpus), "--out", str(c.read_only()),
                   *c.tiny_run],
        ("Read-only file system", "make it writable")),
    "read-only --out for export": (
        lambda c: ["export", str(c.run), "--onnx", "--out", str(c.read_only())],
        ("Read-only file system", "make it writable")),
    "read-only run directory for --resume": (
        read_only_run, ("Read-only file system", "make it writable")),
    "full disk while a checkpoint is written": (
        disk_full_at_checkpoint,
        ("out/model.safetensors", "No space left on device", "free some space")),
    "full disk while safetensors writes a checkpoint (its SafetensorError)": (
        disk_full_in_safetensors,
        ("out/resume.safetensors", "No space left on device", "free some space")),
    "full disk while a file is flushed (fsync)": (
        disk_full_at_flush, ("out/tokenizer/char.json", "No space left on device",
                             "free some space")),
    "diverging loss (--lr 1e30)": (
        lambda c: c.train("--lr", "1e30", "--set", "train.grad_clip=0",
                          "--set", "train.log_interval=1"),
        ("training loss became", "lower --lr")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_input_is_one_line_and_changes_nothing(
    name: str, trained_run: Path, trained_export: Path, small_corpus: Path, tiny_run: list[str],
    registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    run, export = tmp_path / "run", tmp_path / "export"
    shutil.copytree(trained_run, run)
    shutil.copytree(trained_export, export)
    case = Case(run, export, tmp_path, small_corpus, tiny_run, monkeypatch)
    make, words = CASES[name]
    argv = make(case)
    before = {run: tree_hash(run), export: tree_hash(export)}

    result = CliRunner().invoke(cli, argv, obj=registry)
    monkeypatch.undo()
    for directory in (tmp_path / "read-only", run):
        directory.exists() and directory.chmod(0o755)

    line = one_line_error(after_training_started(result))
    assert ".zoo-tmp-" not in line  # a path is named as the user knows it, not its temporary
    for word in words:
        assert word in line, line
    assert {run: tree_hash(run), export: tree_hash(export)} == before
    for path in case.absent:
        assert not path.exists(), f"{path} was created"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in {"run", "export"}]
    assert not [p for p in leftovers if p != "read-only"], leftovers


#: ``python -c`` this, then LIMIT and zoo's arguments: zoo in a process whose files may not grow
#: past LIMIT bytes (RLIMIT_FSIZE), as on a disk with only that much room left. A write past
#: it fails with EFBIG (SIGXFSZ ignored, so the write fails instead of killing the process)
#: inside safetensors, numpy, onnx or Python itself, each reporting it its own way.
ZOO_UNDER_A_FILE_SIZE_LIMIT = """
import resource, runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
runpy.run_module("zoo", run_name="__main__", alter_sys=True)
"""


def zoo_under_a_file_size_limit(limit: int, *args: str, cache: Path) -> Any:
    """Run ``zoo ARGS`` in a child process that may write no file past ``limit`` bytes."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", ZOO_UNDER_A_FILE_SIZE_LIMIT, str(limit), *args],
                          capture_output=True, text=True,
                          env={**os.environ, "ZOO_CACHE": str(cache)})


def zoo_temporaries(directory: Path) -> list[str]:
    """Every zoo temporary under ``directory``, at any depth."""
    return [str(p) for p in directory.rglob(".zoo-tmp-*")]


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals (SIGXFSZ) and rlimits")
def test_a_checkpoint_past_the_disks_room_is_one_line_and_the_last_one_stays(
    trained_run: Path, registry: Any, tmp_path: Path
) -> None:
    """For real: safetensors' own error (File too large, os error 27) on --resume."""
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    kept = {name: tree_hash(run)[name] for name in ("model.safetensors", "resume.safetensors")}
    limit = (run / "resume.safetensors").stat().st_size // 2  # the first checkpoint file
    assert all((run / name).stat().st_size < limit for name in ("config.json", "metrics.jsonl"))

    result = zoo_under_a_file_size_limit(limit, "train", "gru-tied", "--resume", str(run),
                                         "--steps", "16", "--no-progress", cache=tmp_path)
    line = one_line_error(after_training_started(SimpleNamespace(
        exit_code=result.returncode, stdout=result.stdout, stderr=result.stderr)))
    assert f"'{run / 'resume.safetensors'}': File too large" in line
    assert "ulimit -f" in line
    assert {name: tree_hash(run)[name] for name in kept} == kept
    assert not zoo_temporaries(tmp_path)
    # the last checkpoint still samples, and the run resumes once there is room
    assert CliRunner().invoke(cli, ["sample", str(run), "--max-new-tokens", "5"],
                              obj=registry).exit_code == 0
    resumed = CliRunner().invoke(cli, ["train", "gru-tied", "--resume", str(run), "--steps", "16",
                                       "--no-progress"], obj=registry)
    assert resumed.exit_code == 0, resumed.output
    assert max(json.loads(line)["step"] for line in
               (run / "metrics.jsonl").read_text().splitlines()) == 16


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals (SIGXFSZ) and rlimits")
@pytest.mark.parametrize("writer", ["token cache (numpy)", "ONNX export (torch.onnx)"])
def test_a_cache_or_export_past_the_disks_room_is_one_line_and_leaves_nothing(
    writer: str, trained_run: Path, small_corpus: Path, tiny_run: list[str], tmp_path: Path
) -> None:
    """For real: numpy's short write, which names no errno, and torch.onnx's OSError."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    if writer.startswith("token cache"):
        args = ["train", "gru-tied", "--data", str(small_corpus), "--out", str(out), *tiny_run]
        named = str(cache / "tokens") + "/"  # the cache entry being written
    else:
        args = ["export", str(trained_run), "--onnx", "--out", str(out)]
        named = f"'{out / 'model.onnx'}'"
    result = zoo_under_a_file_size_limit(16_384, *args, cache=cache)
    line = one_line_error(result)
    assert named in line and "File too large" in line and "ulimit -f" in line, line
    assert not out.exists()
    assert not zoo_temporaries(tmp_path)
    assert not (cache / "tokens").exists() or not list((cache / "tokens").iterdir())


def test_a_torn_last_metrics_line_is_dropped_on_resume(
    trained_run: Path, registry: Any, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    with open(run / "metrics.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"step": 9, "split": "tra')  # what a kill mid-append leaves
    result = CliRunner().invoke(cli, ["train", "gru-tied", "--resume", str(run), "--steps", "12",
                                      "--no-progress"], obj=registry)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in records) == 12


def test_a_bug_keeps_its_traceback(trained_run: Path, registry: Any,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("a bug in zoo")

    # the module, not zoo.cli's attribute of that name (the click command)
    monkeypatch.setattr(importlib.import_module("zoo.cli.sources"), "load", broken)
    result = CliRunner().invoke(cli, ["sample", str(trained_run)], obj=registry)
    assert result.exit_code == 1
    assert isinstance(result.exception, KeyError)  # not turned into a user's error line
    assert "error:" not in result.stderr


def test_zoo_debug_shows_the_traceback_of_a_users_mistake(
    trained_run: Path, registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (run / "config.json").write_text("{not json", "utf-8")
    monkeypatch.setenv("ZOO_DEBUG", "1")
    result = CliRunner().invoke(cli, ["eval", str(run)], obj=registry)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: the run config")


def test_the_documented_error_example_is_the_line_zoo_prints(registry: Any) -> None:
    """docs/cli.md's example under "Errors and exit codes"."""
    command = "$ zoo train gru-tied --set model.layers=0"
    block = page("cli.md").split(command + "\n", 1)[1].split("```", 1)[0].strip()
    result = CliRunner().invoke(cli, command.split()[2:], obj=registry)
    assert one_line_error(result) == block


def test_an_opset_torch_cannot_export_is_one_line_without_torchs_graph(
    registry: Any, small_corpus: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    run = tmp_path / "transformer"
    trained = CliRunner().invoke(cli, [
        "train", "transformer", "--data", str(small_corpus), "--out", str(run), "--steps", "2",
        "--batch-size", "2", "--block-size", "16", "--device", "cpu", "--no-progress",
        "--set", "model.embed=16", "--set", "model.layers=1", "--set", "model.heads=2",
        "--set", "model.block_size=16", "--set", "train.eval_interval=2",
        "--set", "train.eval_batches=1", "--set", "train.warmup_steps=1"], obj=registry)
    assert trained.exit_code == 0, trained.output
    before = tree_hash(run)
    out = tmp_path / "export"
    # opset 7 lies in torch's range but has no ONNX op for the transformer's arange;
    # torch's C++ side prints its IR graph to stdout, so only a real process shows it
    result = subprocess.run([sys.executable, "-m", "zoo", "export", str(run), "--onnx",
                             "--out", str(out), "--opset", "7"], capture_output=True, text=True)
    line = one_line_error(result)
    assert "could not export 'transformer' to ONNX opset 7" in line
    assert result.stdout == ""
    assert tree_hash(run) == before and not out.exists()
