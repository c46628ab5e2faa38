"""A real third-party plugin package (tests/external_plugin) behaves exactly like a built-in.

It is built and installed with pip into a fresh virtual environment beside
zoo, then listed, trained, sampled and exported through the installed `zoo`;
its tiny trained model (``mingru/tinyshakespeare-tiny``) is listed, sampled,
evaluated, exported and fine-tuned from by name.
Marked slow (about a minute): it runs with `pytest --slow`, as in CI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXTERNAL = Path(__file__).parent / "external_plugin"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(plugin_environment):
    plugin_environment.install(EXTERNAL)
    return plugin_environment


def test_listed_with_its_distribution_name_and_version(env):
    listed = json.loads(env.run("zoo", "list", "mingru", "--json"))
    entry = next(c for c in listed["components"] if c["name"] == "mingru")
    assert entry["kind"] == "architecture"
    assert (entry["distribution"], entry["version"]) == ("zoo-mingru", "0.4.0")
    assert not listed["broken"]


def test_its_own_tests_pass_with_zoos_contract_checks(env):
    output = env.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                     str(EXTERNAL / "tests"))
    assert "3 passed" in output


def test_trains_samples_and_exports_like_a_builtin(env, small_corpus, tmp_path):
    run, export = tmp_path / "run", tmp_path / "export"
    trained = env.run("zoo", "train", "mingru", "--data", str(small_corpus), "--out", str(run),
                      "--steps", "6", "--batch-size", "4", "--block-size", "16",
                      "--set", "model.hidden=32", "--set", "train.eval_interval=3",
                      "--set", "train.eval_batches=1", "--no-progress")
    assert "val loss" in trained
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["name"] == "mingru" and config["model"]["hidden"] == 32
    greedy = ["--prompt", "KING:", "--temperature", "0", "--max-new-tokens", "40"]
    from_torch = env.run("zoo", "sample", str(run), *greedy)
    exported = env.run("zoo", "export", str(run), "--onnx", "--out", str(export))
    assert "exported mingru" in exported
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["architecture"] == "mingru"
    assert manifest["parity"]["max_abs_diff_batch3"] <= 1e-4
    assert env.run("zoo", "sample", "--onnx", str(export), *greedy) == from_torch


TINY = "mingru/tinyshakespeare-tiny"


def test_its_pretrained_model_works_by_name(env, small_corpus, tmp_path):
    listed = json.loads(env.run("zoo", "list", "--kind", "pretrained", "--json"))
    [entry] = [m for m in listed["pretrained"] if m["name"] == TINY]
    assert (entry["architecture"], entry["distribution"]) == ("mingru", "zoo-mingru")
    assert env.run("zoo", "sample", TINY, "--seed", "0", "--max-new-tokens", "20")
    evaluated = json.loads(env.run("zoo", "eval", TINY, "--json"))
    assert abs(evaluated["loss"] - entry["val_loss"]) <= 1e-4
    export = tmp_path / "export"
    assert "exported mingru" in env.run("zoo", "export", TINY, "--onnx", "--out", str(export))
    run = tmp_path / "fine-tuned"
    env.run("zoo", "train", "mingru", "--init-from", TINY, "--data", str(small_corpus),
            "--out", str(run), "--steps", "4", "--batch-size", "4", "--block-size", "16",
            "--set", "train.eval_interval=4", "--set", "train.eval_batches=1", "--no-progress")
    assert json.loads((run / "config.json").read_text())["train"]["init_from"] == TINY
