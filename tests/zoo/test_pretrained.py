"""Trained models as plugins: a published run registered by name, usable wherever a run is,
checked against its sha256, read-only, listed, and scaffolded from a run."""

from __future__ import annotations

import json
import os
import shutil
import stat
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_errors import one_line_error
from zoo.api import load
from zoo.api.publishing import publish_run, write_index
from zoo.cli import cli
from zoo.registry.host import installed_entry_points, load_registry
from zoo.runs.pretrained import file_sha256
from zoo.testing import check_pretrained

NAME = "gru-tied/small"


@pytest.fixture(scope="session")
def package(trained_run: Path, tmp_path_factory: pytest.TempPathFactory, registry) -> Path:
    """A pretrained package's folder (``models.json`` and ``models/NAME``) made from a run."""
    folder = tmp_path_factory.mktemp("pretrained") / "zoo_small"
    folder.mkdir()
    entry = publish_run(trained_run, folder / "models" / NAME, name=NAME,
                        summary="a tiny gru-tied on a little Shakespeare",
                        command=["zoo", "train", "gru-tied", "--steps", "8"],
                        machine={"hardware": "2 CPU cores", "date": "2026-12-04"},
                        registry=registry, log=lambda line: None)
    write_index(folder / "models.json", {NAME: entry}, keep=False)
    return folder


PLUGIN = """
    from pathlib import Path
    from zoo import hookimpl
    from zoo.plugin import register_index

    ZOO_PLUGIN_API = 3

    @hookimpl
    def zoo_register_pretrained(register):
        register_index(register, Path({index!r}))
"""


def registry_with(make_plugin, *plugins: tuple[str, str]):
    """The installed plugins and ``plugins`` (entry-point name, module source), strictly off."""
    extra = [make_plugin(name, source, distribution=f"zoo-{name}") for name, source in plugins]
    return load_registry([*installed_entry_points(), *extra], disabled=set(), strict=False)


@pytest.fixture
def small_registry(package: Path, make_plugin):
    return registry_with(make_plugin, ("small", PLUGIN.format(index=str(package / "models.json"))))


def invoke(registry, *args: str):
    return CliRunner().invoke(cli, list(args), obj=registry)


def snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``folder``: size, modification time and sha256."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns, file_sha256(p))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_published_run_passes_the_pretrained_contract(small_registry):
    check_pretrained(NAME, small_registry)


def test_the_name_works_wherever_a_run_directory_does(small_registry, package, tmp_path,
                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = snapshot(package)
    sampled = invoke(small_registry, "sample", NAME, "--seed", "0", "--max-new-tokens", "30")
    assert sampled.exit_code == 0, sampled.output
    assert sampled.output == invoke(small_registry, "sample", NAME, "--seed", "0",
                                    "--max-new-tokens", "30").output
    evaluated = invoke(small_registry, "eval", NAME, "--json")
    recorded = [r for r in load(NAME, registry=small_registry).metrics if r["split"] == "val"]
    assert json.loads(evaluated.output)["loss"] == pytest.approx(recorded[-1]["loss"], abs=1e-4)
    for command in (["score", NAME, "--text", "To be or not"],
                    ["inspect", NAME, "--text", "To be"],
                    ["compare", NAME]):
        result = invoke(small_registry, *command)
        assert result.exit_code == 0, (command, result.output)
    shown = invoke(small_registry, "show", NAME)
    assert f"pretrained    {NAME} (zoo-small 1.0), read-only" in shown.output
    assert f"# {NAME}" in shown.output and "## Samples" in shown.output  # the model card
    exported = invoke(small_registry, "export", NAME, "--onnx")
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "exports" / "gru-tied-small" / "onnx" / "manifest.json").is_file()
    assert snapshot(package) == before


def test_a_flipped_byte_is_one_line_naming_the_file(package, make_plugin, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(package, copy)
    weights = copy / "models" / NAME / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    registry = registry_with(make_plugin, ("small", PLUGIN.format(index=str(copy / "models.json"))))
    line = one_line_error(invoke(registry, "sample", NAME))
    assert str(weights) in line and "sha256" in line
    assert "pip install --force-reinstall 'zoo-small'" in line


def test_resuming_a_pretrained_model_is_refused_with_the_way_out(small_registry, package):
    before = snapshot(package)
    line = one_line_error(invoke(small_registry, "train", "gru-tied", "--resume", NAME,
                                 "--steps", "20"))
    assert f"pretrained model {NAME!r} is read-only" in line
    assert f"zoo train gru-tied --init-from {NAME}" in line
    assert snapshot(package) == before


def test_init_from_a_pretrained_model_never_writes_into_the_package(
        small_registry, package, small_corpus, tmp_path):
    before = snapshot(package)
    modes = {p: p.stat().st_mode for p in package.rglob("*")}
    for path in modes:  # read-only, as site-packages is to a user (root writes regardless,
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:  # so the snapshot below is the proof that holds for root too)
        out = tmp_path / "fine-tuned"
        result = invoke(small_registry, "train", "gru-tied", "--init-from", NAME,
                        "--data", str(small_corpus), "--steps", "4", "--batch-size", "4",
                        "--block-size", "32", "--set", "train.eval_interval=4",
                        "--set", "train.eval_batches=1", "--out", str(out), "--no-progress")
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["train"]["init_from"] == NAME
    assert snapshot(package) == before


def test_a_path_on_disk_wins_over_a_pretrained_name(small_registry, trained_run, tmp_path,
                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(trained_run, tmp_path / NAME)
    shown = invoke(small_registry, "show", NAME)
    assert shown.exit_code == 0, shown.output
    assert "pretrained" not in shown.output  # the user's own run, not the installed model


def test_an_unknown_name_lists_the_installed_models(small_registry):
    line = one_line_error(invoke(small_registry, "sample", "gru-tied/nowhere"))
    assert "no run directory or pretrained model 'gru-tied/nowhere'" in line
    assert NAME in line


def test_list_kind_pretrained_shows_size_and_loss(small_registry):
    listed = invoke(small_registry, "list", "--kind", "pretrained", "small")
    header, row = listed.output.splitlines()[:2]
    assert header.split() == ["NAME", "ARCHITECTURE", "PARAMETERS", "DATASET", "VAL", "LOSS",
                              "BITS/CHAR", "SIZE", "PROVIDER"]
    parameters = load(NAME, registry=small_registry).parameters
    assert row.split()[:4] == [NAME, "gru-tied", f"{parameters:,}", "text"]
    [entry] = json.loads(invoke(small_registry, "list", "--kind", "pretrained", "small",
                                "--json").output)["pretrained"]
    assert entry["name"] == NAME and entry["architecture"] == "gru-tied"
    assert entry["distribution"] == "zoo-small" and entry["size_bytes"] > 0
    assert {"parameters", "dataset", "val_loss", "bits_per_char"} <= set(entry)
    everything = invoke(small_registry, "list", "small").output
    assert "1 pretrained model matches: zoo list --kind pretrained small" in everything


@pytest.mark.parametrize(("change", "expected"), [
    (lambda e: e.update(name="Bad Name"), "pretrained name 'Bad Name' is not valid"),
    (lambda e: e["sha256"].pop("MODEL.md"), "registers no sha256 for MODEL.md"),
    (lambda e: e["sha256"].update({"config.json": "0" * 10}), "is not 64 lowercase hex"),
    (lambda e: e["sha256"].update({"extra.txt": "0" * 64}), "'extra.txt' is missing"),
    (lambda e: e["sha256"].update({"../x": "0" * 64}), "not a path inside its directory"),
])
def test_a_malformed_registration_is_a_broken_plugin(package, make_plugin, change, expected):
    index = json.loads((package / "models.json").read_text())
    entry = {"name": NAME, **index[NAME]}
    change(entry)
    source = f"""
        from zoo import hookimpl
        ZOO_PLUGIN_API = 3

        @hookimpl
        def zoo_register_pretrained(register):
            register({entry['name']!r}, summary="x", directory={str(package / "models" / NAME)!r},
                     sha256={entry['sha256']!r})
    """
    registry = registry_with(make_plugin, ("bad", textwrap.dedent(source)))
    [broken] = registry.broken
    assert broken.provider.plugin == "bad" and expected in broken.error
    listed = invoke(registry, "list")
    assert listed.exit_code == 0 and expected in listed.output


def test_two_plugins_with_one_name_conflict(package, make_plugin):
    source = PLUGIN.format(index=str(package / "models.json"))
    registry = registry_with(make_plugin, ("one", source), ("two", source))
    assert NAME not in registry.pretrained
    line = one_line_error(invoke(registry, "sample", NAME))
    assert "registered by both" in line and "ZOO_DISABLE_PLUGINS" in line


def test_the_card_says_how_it_was_made_and_its_samples_reproduce(small_registry):
    run = load(NAME, registry=small_registry)
    card = run.card
    assert "`zoo train gru-tied --steps 8`" in card
    assert "- hardware: 2 CPU cores" in card and "- zoo 0.1.0, 2026-12-04" in card
    assert "init_from" not in card and "[model]" in card  # the config, as zoo train --config
    command = "zoo sample gru-tied/small --seed 2 --max-new-tokens 300"
    assert f"`{command}`:" in card
    shown = card.split(f"`{command}`:\n\n```text\n")[1].split("\n```")[0]
    sampled = invoke(small_registry, *command.split()[1:]).output
    assert sampled.rstrip("\n") == shown


def test_plugin_new_publishes_a_run_as_a_package(trained_run, tmp_path, make_plugin, registry,
                                                 monkeypatch):
    out = tmp_path / "zoo-gru-tied-mine"
    result = invoke(registry, "plugin", "new", "gru-tied/mine", "--kind", "pretrained",
                    "--from", str(trained_run), "--out", str(out))
    assert result.exit_code == 0, result.output
    package = out / "zoo_gru_tied_mine"
    assert (package / "models" / "gru-tied" / "mine" / "MODEL.md").is_file()
    assert 'gru-tied-mine = "zoo_gru_tied_mine.plugin"' in (out / "pyproject.toml").read_text()
    monkeypatch.syspath_prepend(str(out))
    entry_point = make_plugin("unused", "x = 1")  # a fake entry point, pointed at the package
    entry_point.value, entry_point.name = "zoo_gru_tied_mine.plugin", "gru-tied-mine"
    mine = load_registry([*installed_entry_points(), entry_point], disabled=set(), strict=True)
    check_pretrained("gru-tied/mine", mine)
    test = (out / "tests" / "test_zoo_gru_tied_mine.py").read_text()
    assert 'check_pretrained("gru-tied/mine")' in test


@pytest.mark.parametrize(("args", "expected"), [
    (["gru-tied/x", "--kind", "pretrained"], "--from RUN goes with --kind pretrained"),
    (["tiny", "--kind", "architecture", "--from", "runs/x"], "--from RUN goes with"),
    (["GRU", "--kind", "pretrained", "--from", "runs/x"], "is not usable"),
])
def test_plugin_new_pretrained_mistakes_are_one_line(registry, args, expected, tmp_path,
                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = one_line_error(invoke(registry, "plugin", "new", *args))
    assert expected in line
    assert os.listdir(tmp_path) == []
