"""Atomic writes: a failure leaves the old file (or nothing) and no temporary litter."""

from __future__ import annotations

import os
import stat

import pytest

from zoo.atomic import atomic_directory, atomic_path, write_text


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
        assert temp != path and temp.parent == tmp_path
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
