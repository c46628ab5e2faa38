"""Runs record which distribution provided each component, and name it when it goes missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.config.run import build_run_config
from zoo.errors import ZooError
from zoo.models.loading import load_run
from zoo.registry.host import installed_entry_points, load_registry
from zoo.runs.run_directory import read_config, write_config
from zoo.version import __version__

TOY = """
    from dataclasses import dataclass
    from zoo import hookimpl

    @dataclass
    class ToyConfig:
        width: int = 8  # a width

    @hookimpl
    def zoo_register_architectures(register):
        register("toy", summary="a toy model", config=ToyConfig, factory=dict)

    @hookimpl
    def zoo_register_datasets(register):
        register("toy-data", summary="toy data", config=ToyConfig, factory=dict)
"""

ZOO_LM = {"distribution": "zoo-lm", "version": __version__}


def _toy_registry(make_plugin):
    toy = make_plugin("toy-plugin", TOY, "zoo-toy", "2.3")
    return load_registry([*installed_entry_points(), toy], disabled=set(), strict=True)


def _toy_run_config(registry):
    sections = {"model": {"name": "toy"}, "tokenizer": {"name": "char"},
                "dataset": {"name": "toy-data"}}
    return build_run_config(registry, sections)


def test_config_json_records_the_provider_of_each_component(make_plugin, tmp_path):
    registry = _toy_registry(make_plugin)
    write_config(tmp_path, _toy_run_config(registry), 10, registry=registry)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["providers"] == {
        "model": {"plugin": "toy-plugin", "distribution": "zoo-toy", "version": "2.3"},
        "tokenizer": {"plugin": "builtin-tokenizers", **ZOO_LM},
        "dataset": {"plugin": "toy-plugin", "distribution": "zoo-toy", "version": "2.3"},
    }
    assert saved["model"] == {"name": "toy", "width": 8}  # the sections hold config alone


def test_rewriting_config_without_a_registry_keeps_the_recorded_providers(make_plugin,
                                                                          tmp_path):
    registry = _toy_registry(make_plugin)
    run_config = _toy_run_config(registry)
    write_config(tmp_path, run_config, 10, registry=registry)
    recorded = read_config(tmp_path)["providers"]
    write_config(tmp_path, run_config, 10)  # e.g. --resume rewriting config.json
    assert read_config(tmp_path)["providers"] == recorded


def _copy_run(trained_run: Path, tmp_path: Path, **changes) -> Path:
    """A copy of the shared run whose config.json has ``changes`` at its top level."""
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    raw = json.loads((run / "config.json").read_text())
    raw.update(changes)
    raw = {key: value for key, value in raw.items() if value is not None}
    (run / "config.json").write_text(json.dumps(raw))
    return run


def test_a_run_without_providers_still_loads(registry, trained_run, tmp_path):
    run = _copy_run(trained_run, tmp_path, providers=None)  # as written before zoo recorded them
    assert "providers" not in read_config(run)
    assert load_run(registry, run).config.model.name == "gru-tied"


@pytest.mark.parametrize("command", ["sample", "eval"])
def test_missing_architecture_names_the_package_to_install(registry, trained_run, tmp_path,
                                                           command):
    gone = {"plugin": "mingru", "distribution": "zoo-mingru-not-installed", "version": "0.1.0"}
    run = _copy_run(trained_run, tmp_path, model={"name": "mingru", "hidden": 48},
                    providers={"model": gone})
    line = one_line_error(CliRunner().invoke(cli, [command, str(run)], obj=registry))
    available = ", ".join(registry.names("architecture"))
    assert line == (
        f"error: no architecture 'mingru'; available: {available}; this run was made with it "
        "from zoo-mingru-not-installed 0.1.0: pip install 'zoo-mingru-not-installed>=0.1.0'"
    )


def test_installed_distribution_that_no_longer_registers_it_is_named(registry, trained_run,
                                                                     tmp_path):
    run = _copy_run(trained_run, tmp_path)
    write_config(run, load_run(registry, run).config, read_config(run)["vocab_size"],
                 registry=registry)
    without_architectures = load_registry(
        [ep for ep in installed_entry_points() if ep.name != "builtin-architectures"],
        disabled=set(),
    )
    result = CliRunner().invoke(cli, ["eval", str(run)], obj=without_architectures)
    assert one_line_error(result) == (
        f"error: no architecture 'gru-tied'; available: none; this run was made with it from "
        f"zoo-lm {__version__}, which is installed but did not register it: see the broken "
        "plugins in `zoo list`, and ZOO_DISABLE_PLUGINS"
    )


@pytest.mark.parametrize(
    ("recorded", "hint"),
    [
        (None, ""),  # made before zoo recorded providers
        ({"distribution": 7}, ""),  # not a record
        ({"plugin": "x", "distribution": "zoo-gone", "version": "unknown"},
         "; this export was made with it from zoo-gone unknown: pip install 'zoo-gone'"),
    ],
    ids=["none", "malformed", "unknown-version"],
)
def test_recorded_provider_hint(registry, recorded, hint):
    with pytest.raises(ZooError) as error:
        registry.get_recorded("tokenizer", "gone", recorded, "this export")
    available = ", ".join(registry.names("tokenizer"))
    assert str(error.value) == f"no tokenizer 'gone'; available: {available}{hint}"


def test_zoo_train_records_the_providers_and_resume_keeps_them(runner, registry, small_corpus,
                                                               tiny_run, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(cli, ["train", "gru-tied", "--data", str(small_corpus), "--out",
                                 str(out), *tiny_run], obj=registry)
    assert result.exit_code == 0, result.output
    recorded = read_config(out)["providers"]
    assert {section: (p["distribution"], p["version"]) for section, p in recorded.items()} == {
        section: ("zoo-lm", __version__) for section in ("model", "tokenizer", "dataset")}
    resumed = runner.invoke(cli, ["train", "gru-tied", "--resume", str(out), "--steps", "10",
                                  "--no-progress"], obj=registry)
    assert resumed.exit_code == 0, resumed.output
    assert read_config(out)["providers"] == recorded
