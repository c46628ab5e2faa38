"""Atomic writes: a failure leaves the old file (or nothing) and no temporary litter."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys

import pytest

from zoo.errors import ZooError
from zoo.files.atomic import (
    TEMPORARY_NAME,
    atomic_directory,
    atomic_path,
    final_path,
    remove_stale_temporaries,
    stale_temporaries,
    write_text,
)


class Crash(Exception):
    pass


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_write_text_creates_and_replaces(tmp_path):
    path = tmp_path / "config.json"
    write_text(path, "first")
    assert path.read_text("utf-8") == "first"
    write_text(path, "second — ü")
    assert path.read_text("utf-8") == "second — ü"
    assert os.listdir(tmp_path) == ["config.json"]


def test_write_text_creates_missing_parent_folders(tmp_path):
    path = tmp_path / "runs" / "a" / "metrics.json"
    write_text(path, "{}")
    assert path.read_text("utf-8") == "{}"


def test_exception_inside_atomic_path_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_text("old", "utf-8")
    with pytest.raises(Crash), atomic_path(path) as temp:
        temp.write_text("half-writ", "utf-8")
        raise Crash
    assert path.read_text("utf-8") == "old"
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_exception_inside_atomic_path_creates_nothing(tmp_path):
    path = tmp_path / "new.txt"
    with pytest.raises(Crash), atomic_path(path) as temp:
        temp.write_text("partial", "utf-8")
        raise Crash
    assert os.listdir(tmp_path) == []


def test_atomic_path_writes_through_the_temporary(tmp_path):
    path = tmp_path / "data.bin"
    with atomic_path(path) as temp:
        assert temp != path and temp.parent.parent == tmp_path
        assert temp.parent.name.startswith(f".zoo-tmp-{os.getpid()}-")
        assert not path.exists()  # nothing visible until the block succeeds
        temp.write_bytes(b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_atomic_directory_appears_only_on_success(tmp_path):
    target = tmp_path / "export"
    with atomic_directory(target) as temp:
        (temp / "model.onnx").write_bytes(b"onnx")
        (temp / "tokenizer").mkdir()
        (temp / "tokenizer" / "char.json").write_text("{}", "utf-8")
        assert not target.exists()
    assert (target / "model.onnx").read_bytes() == b"onnx"
    assert (target / "tokenizer" / "char.json").read_text("utf-8") == "{}"
    assert os.listdir(tmp_path) == ["export"]


def test_atomic_directory_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "export"
    with pytest.raises(Crash), atomic_directory(target) as temp:
        (temp / "model.onnx").write_bytes(b"onnx")
        raise Crash
    assert os.listdir(tmp_path) == []


def test_atomic_directory_never_replaces_a_users_folder(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "mine.txt").write_text("keep", "utf-8")
    with pytest.raises(OSError), atomic_directory(target) as temp:
        (temp / "model.onnx").write_bytes(b"onnx")
    assert os.listdir(target) == ["mine.txt"]
    assert os.listdir(tmp_path) == ["export"]


def test_files_follow_the_umask(tmp_path, umask_022):
    path = tmp_path / "config.json"
    write_text(path, "{}")
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode & 0o044 == 0o044  # group and others can read, as with a plain open()
    assert mode == 0o644


def test_directories_follow_the_umask(tmp_path, umask_022):
    target = tmp_path / "run"
    with atomic_directory(target) as temp:
        (temp / "x").write_text("x", "utf-8")
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == 0o755


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _leave_temporary(directory, pid, name, *, as_directory):
    temp = directory / f".zoo-tmp-{pid}-0badc0de-{name}"
    if as_directory:
        temp.mkdir()
        (temp / "half.bin").write_bytes(b"\0" * 10)
    else:
        temp.write_bytes(b"\0" * 10)
    return temp


@pytest.mark.parametrize("use", ["atomic_path", "atomic_directory"])
def test_a_write_removes_stale_temporaries_of_dead_processes_only(tmp_path, use):
    dead = _dead_pid()
    stale = [_leave_temporary(tmp_path, dead, "resume.safetensors", as_directory=True),
             _leave_temporary(tmp_path, dead, "tokenizer", as_directory=False)]
    live = [_leave_temporary(tmp_path, os.getpid(), "model.safetensors", as_directory=True),
            _leave_temporary(tmp_path, os.getppid(), "export", as_directory=False)]
    unrelated = tmp_path / ".zoo-tmp-notes.txt"  # not a zoo temporary's name
    unrelated.write_text("mine", "utf-8")
    if use == "atomic_path":
        write_text(tmp_path / "config.json", "{}")
    else:
        with atomic_directory(tmp_path / "export") as temp:
            (temp / "x").write_text("x", "utf-8")
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in live) and unrelated.exists()


def test_stale_temporaries_are_named_by_their_dead_process(tmp_path):
    dead = _dead_pid()
    stale = _leave_temporary(tmp_path, dead, "KEY", as_directory=True)
    _leave_temporary(tmp_path, os.getpid(), "KEY", as_directory=True)
    assert stale_temporaries(tmp_path) == [stale]
    remove_stale_temporaries(tmp_path)
    assert len(os.listdir(tmp_path)) == 1


def test_temporaries_carry_the_writers_pid_and_the_name(tmp_path):
    with atomic_path(tmp_path / "model.safetensors") as temp:
        match = TEMPORARY_NAME.match(temp.parent.name)
        assert match and int(match["pid"]) == os.getpid()
        assert match["name"] == "model.safetensors"
        temp.write_bytes(b"x")


def test_safetensors_files_follow_the_umask(tmp_path, umask_022):
    # safetensors creates its file 0600 and renames it over the path it is given
    import torch
    from safetensors.torch import save_file

    path = tmp_path / "model.safetensors"
    with atomic_path(path) as temp:
        save_file({"w": torch.zeros(2)}, str(temp))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["model.safetensors"]  # its own .tmpXXXX stayed inside ours


def test_files_follow_a_group_writable_umask(tmp_path):
    old = os.umask(0o002)
    try:
        write_text(tmp_path / "config.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o664


def test_a_locked_temporary_is_kept_even_when_its_pid_looks_dead(tmp_path):
    # a writer in another PID namespace sharing the directory: its pid means nothing here,
    # but the lock it holds on its temporary does
    from zoo.files.atomic import lock, unlock

    foreign = _leave_temporary(tmp_path, _dead_pid(), "export", as_directory=True)
    held = lock(foreign)
    try:
        remove_stale_temporaries(tmp_path)
        assert foreign.exists()
    finally:
        unlock(held)
    remove_stale_temporaries(tmp_path)
    assert not foreign.exists()


def test_the_token_cache_removes_what_a_killed_cache_write_left(tmp_path):
    from zoo.data.token_cache import cached_splits
    from zoo_plugins.tokenizers.char import CharTokenizer

    class Corpus:
        def texts(self, split):
            return {"train": ["abc abc\n" * 20], "val": ["cab\n" * 5]}[split]

    tokens = tmp_path / "tokens"
    tokens.mkdir()
    stale = _leave_temporary(tokens, _dead_pid(), "0123abcd", as_directory=True)
    live = _leave_temporary(tokens, os.getpid(), "4567abcd", as_directory=True)
    tokenizer = CharTokenizer()
    tokenizer.train(["abc \n"])
    cached_splits(Corpus(), tokenizer, tmp_path)
    assert not stale.exists() and live.exists()


@pytest.mark.parametrize(("path", "named"), [
    ("runs/.zoo-tmp-7-ab12-mine/config.json", "runs/mine/config.json"),  # a staged run
    ("out/.zoo-tmp-7-ab12-model.onnx/model.onnx", "out/model.onnx"),  # a file's holder
    ("/data/runs/mine/metrics.jsonl", "/data/runs/mine/metrics.jsonl"),
    ("runs/.zoo-tmp-notapid-x/config.json", "runs/.zoo-tmp-notapid-x/config.json"),
])
def test_final_path_names_a_temporary_as_what_it_becomes(path, named):
    assert final_path(path) == named


def test_a_failed_flush_names_the_file_being_written(tmp_path, monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "config.json"
    with pytest.raises(OSError) as raised:
        write_text(target, "{}")
    assert raised.value.errno == errno.ENOSPC
    assert final_path(raised.value.filename) == str(target)
    assert not target.exists() and list(tmp_path.iterdir()) == []  # nothing half-written


def _safetensors_disk_full() -> Exception:
    import safetensors

    return safetensors.SafetensorError(
        "Error while serializing: I/O error: No space left on device (os error 28)")


def _wrapped_disk_full() -> Exception:
    error = RuntimeError("could not save the model")
    error.__cause__ = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return error


#: A full disk as each writer reports it: (how the error is made, the errno behind it).
DISK_FULL_REPORTS = {
    "safetensors' SafetensorError": (_safetensors_disk_full, errno.ENOSPC),
    "a Rust library's io::Error (Hugging Face tokenizers)": (
        lambda: Exception("No space left on device (os error 28)"), errno.ENOSPC),
    "a quota, quoted in another error": (
        lambda: RuntimeError("writing failed: [Errno 122] Disk quota exceeded"), errno.EDQUOT),
    "numpy's short write, without an errno": (
        lambda: OSError("10000 requested and 496 written"), errno.ENOSPC),
    "an error caused by an OSError": (_wrapped_disk_full, errno.ENOSPC),
    "Python's own write, naming no file": (
        lambda: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), errno.ENOSPC),
}


@pytest.mark.parametrize("report", list(DISK_FULL_REPORTS))
def test_a_full_disk_in_any_writer_is_an_os_error_naming_the_file(tmp_path, report):
    make, code = DISK_FULL_REPORTS[report]
    path = tmp_path / "model.safetensors"
    path.write_text("the last checkpoint", "utf-8")
    with pytest.raises(OSError) as raised, atomic_path(path) as temp:
        temp.write_text("half-writ", "utf-8")
        raise make()
    assert raised.value.errno == code
    assert raised.value.filename == str(path)  # as the user knows it, not the temporary
    assert path.read_text("utf-8") == "the last checkpoint"
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_a_full_disk_in_a_directory_names_the_file_or_else_the_directory(tmp_path):
    out = tmp_path / "export"
    with pytest.raises(OSError) as raised, atomic_directory(out) as temp:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(temp / "model.onnx"))
    assert raised.value.filename == str(out / "model.onnx")
    with pytest.raises(OSError) as raised, atomic_directory(out):
        raise _safetensors_disk_full()
    assert raised.value.filename == str(out)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("error", [ValueError("a bug in zoo"), ZooError("[Errno 28] a message"),
                                   OSError("an OSError with neither errno nor a short write")],
                         ids=["a bug", "a user's mistake", "no errno"])
def test_a_failure_that_is_no_disks_is_raised_as_it_is(tmp_path, error):
    with pytest.raises(type(error)) as raised, atomic_path(tmp_path / "config.json"):
        raise error
    assert raised.value is error
    assert os.listdir(tmp_path) == []


#: Run with ``python -c`` and a folder: each writer, in a process whose files may not grow past
#: 4 KiB (RLIMIT_FSIZE), as on a disk with that much room left; prints what each raised.
FILE_SIZE_LIMIT_CHILD = """
import json, resource, signal, sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from zoo.files.atomic import atomic_directory, atomic_path, write_text

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails, it does not kill
folder = Path(sys.argv[1])


def safetensors_file():
    with atomic_path(folder / "model.safetensors") as temp:
        save_file({"w": np.zeros(4096, np.float32)}, str(temp))


def numpy_directory():
    with atomic_directory(folder / "tokens") as temp:
        np.save(temp / "train.npy", np.zeros(4096, np.uint16))


def python_text():
    write_text(folder / "config.json", "x" * 16384)


soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
raised = {}
for writer in (safetensors_file, numpy_directory, python_text):
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        writer()
    except OSError as error:
        cause = error.__cause__ or error
        raised[writer.__name__] = [error.errno, error.filename, type(cause).__name__]
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
print(json.dumps(raised))
"""


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals (SIGXFSZ) and rlimits")
def test_a_write_past_the_disks_room_names_the_file_and_keeps_the_old_one(tmp_path):
    """For real, each library failing its own way: safetensors (Rust), numpy, Python."""
    import json

    (tmp_path / "model.safetensors").write_bytes(b"the last checkpoint")
    (tmp_path / "config.json").write_text("{}", "utf-8")
    child = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMIT_CHILD, str(tmp_path)],
                           capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout) == {
        "safetensors_file": [errno.EFBIG, str(tmp_path / "model.safetensors"), "SafetensorError"],
        "numpy_directory": [errno.EFBIG, str(tmp_path / "tokens"), "OSError"],
        "python_text": [errno.EFBIG, str(tmp_path / "config.json"), "OSError"],
    }
    assert (tmp_path / "model.safetensors").read_bytes() == b"the last checkpoint"
    assert (tmp_path / "config.json").read_text("utf-8") == "{}"
    assert sorted(os.listdir(tmp_path)) == ["config.json", "model.safetensors"]


def test_a_full_disk_at_the_token_cache_is_said_and_leaves_no_half_entry(tmp_path, monkeypatch):
    """numpy's short write, which is how np.save reports a full disk (no errno)."""
    import numpy as np

    from zoo.data import token_cache
    from zoo_plugins.tokenizers.char import CharTokenizer

    class Corpus:
        def texts(self, split):
            return {"train": ["abc abc\n" * 20], "val": ["cab\n" * 5]}[split]

    def save(path, array):
        with open(path, "wb") as handle:
            handle.write(b"\x93NUMPY half")
        raise OSError(f"{array.nbytes} requested and 10 written")

    monkeypatch.setattr(np, "save", save)
    tokenizer = CharTokenizer()
    tokenizer.train(["abc \n"])
    with pytest.raises(OSError) as raised:
        token_cache.cached_splits(Corpus(), tokenizer, tmp_path)
    assert raised.value.errno == errno.ENOSPC
    assert raised.value.filename.startswith(str(tmp_path / "tokens") + os.sep)
    assert "ZOO_CACHE" in raised.value.strerror  # where the cache can go instead
    assert os.listdir(tmp_path / "tokens") == []
