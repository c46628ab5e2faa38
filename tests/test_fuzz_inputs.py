"""Property: whatever is done to a run's or an export's files, a command works or says one line.

Hypothesis mutates ``config.json``, ``manifest.json``, the tokenizer's file
and the weights (structural JSON edits, truncation, random JSON, bit flips;
``model.onnx`` flips with its sha256 fixed up or not) and feeds the result to
``zoo eval``, ``zoo sample`` and ``zoo sample --onnx``. Each must exit 0, or
exit 2 with one ``error: ...`` line: never a traceback. The fast variants run
in every test session (derandomized, so CI sees the same examples); the
``slow`` ones try many more.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_errors import one_line_error
from zoo.cli import cli

#: Examples per property in every session, and in the slow variants.
FAST_EXAMPLES = 40
SLOW_EXAMPLES = 250


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


RUN_FILES = ("config.json", "tokenizer/char.json", "model.safetensors")
EXPORT_FILES = ("manifest.json", "tokenizer/char.json", "model.onnx")

#: Any JSON value, small: sizes stay small so a mutated config never builds a huge model.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.floats(-1e3, 1e3)
    | st.sampled_from([float("nan"), float("inf")]) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)


def mutate_json(data: st.DataObject, text: str) -> str:
    """One edit somewhere in a JSON document: replace, delete or add a value, or cut it."""
    how = data.draw(st.sampled_from(["replace", "delete", "add", "cut", "other"]), label="how")
    if how == "cut":
        return text[: data.draw(st.integers(0, max(len(text) - 1, 0)), label="cut at")]
    if how == "other":
        return json.dumps(data.draw(JSON_VALUES, label="document"))
    document = json.loads(text)
    parent, key = None, None
    node = document
    while isinstance(node, dict | list) and node and data.draw(st.booleans(), label="deeper"):
        keys = sorted(node) if isinstance(node, dict) else list(range(len(node)))
        parent, key = node, data.draw(st.sampled_from(keys), label="key")
        node = node[key]
    if parent is None:  # the top level itself
        if isinstance(document, dict) and how in ("delete", "add"):
            parent, key = document, data.draw(st.sampled_from(sorted(document)), label="key")
        else:
            return json.dumps(data.draw(JSON_VALUES, label="document"))
    value = data.draw(JSON_VALUES, label="value")
    if how == "replace":
        parent[key] = value
    elif how == "delete":
        del parent[key]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=6), label="new key")] = value
    else:
        parent.append(value)
    return json.dumps(document)


def mutate_bytes(data: st.DataObject, raw: bytes) -> bytes:
    """Truncate ``raw``, or flip a few bits (often in the header, where a format is parsed)."""
    if data.draw(st.booleans(), label="truncate"):
        return raw[: data.draw(st.integers(0, len(raw) - 1), label="keep")]
    flipped = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4), label="flips")):
        end = len(raw) if data.draw(st.booleans(), label="anywhere") else min(len(raw), 256)
        at = data.draw(st.integers(0, end - 1), label="byte")
        flipped[at] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    return bytes(flipped)


def damage(data: st.DataObject, directory: Path, files: tuple[str, ...]) -> str:
    """Mutate one of ``files`` in ``directory``; return its name."""
    name = data.draw(st.sampled_from(files), label="file")
    path = directory / name
    if name.endswith(".json"):
        path.write_text(mutate_json(data, path.read_text("utf-8")), "utf-8")
    else:
        path.write_bytes(mutate_bytes(data, path.read_bytes()))
    if name == "model.onnx" and data.draw(st.booleans(), label="fix up sha256"):
        manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
        manifest["model_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        (directory / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return name


def works_or_one_line(result: Any) -> None:
    """Exit 0, or the one-line error of a user's mistake; a bug re-raises with its traceback."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if result.exit_code != 0:
        one_line_error(result)


def fuzz_run(data: st.DataObject, trained_run: Path, registry: Any) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        run = Path(scratch) / "run"
        shutil.copytree(trained_run, run)
        damage(data, run, RUN_FILES)
        command = data.draw(st.sampled_from([
            ["eval", str(run), "--no-progress"],
            ["sample", str(run), "--max-new-tokens", "4", "--seed", "0"],
        ]), label="command")
        works_or_one_line(CliRunner().invoke(cli, command, obj=registry))


def fuzz_export_dir(data: st.DataObject, export: Path, registry: Any) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "export"
        shutil.copytree(export, copy)
        damage(data, copy, EXPORT_FILES)
        command = ["sample", "--onnx", str(copy), "--max-new-tokens", "4", "--seed", "0"]
        works_or_one_line(CliRunner().invoke(cli, command, obj=registry))


@fuzz_settings(FAST_EXAMPLES)
@given(data=st.data())
def test_eval_and_sample_survive_any_damage_to_a_run(data, trained_run, registry):
    fuzz_run(data, trained_run, registry)


@fuzz_settings(FAST_EXAMPLES)
@given(data=st.data())
def test_sample_onnx_survives_any_damage_to_an_export(data, trained_export, registry):
    fuzz_export_dir(data, trained_export, registry)


@pytest.mark.slow
@fuzz_settings(SLOW_EXAMPLES)
@given(data=st.data())
def test_eval_and_sample_survive_any_damage_to_a_run_many_times(data, trained_run, registry):
    fuzz_run(data, trained_run, registry)


@pytest.mark.slow
@fuzz_settings(SLOW_EXAMPLES)
@given(data=st.data())
def test_sample_onnx_survives_any_damage_to_an_export_many_times(data, trained_export, registry):
    fuzz_export_dir(data, trained_export, registry)
