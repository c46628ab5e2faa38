"""`zoo plugin new`: a generated package installs with pip and its own test passes unchanged."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.registry.scaffold import COMPONENT_KINDS as KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_new_plugin_writes_a_complete_package(tmp_path, kind):
    out = tmp_path / "pkg"
    result = CliRunner().invoke(cli, ["plugin", "new", "tiny-thing", "--kind", kind,
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    module = {"architecture": "model", "tokenizer": "tokenizer", "dataset": "dataset"}[kind]
    expected = ["README.md", "pyproject.toml", "tests/test_zoo_tiny_thing.py",
                "zoo_tiny_thing/__init__.py", f"zoo_tiny_thing/{module}.py",
                "zoo_tiny_thing/plugin.py", "zoo_tiny_thing/config.py"]
    expected += ["zoo_tiny_thing/sample.txt"] if kind == "dataset" else []
    assert files == sorted(expected)
    pyproject = (out / "pyproject.toml").read_text()
    assert '[project.entry-points.zoo]\ntiny-thing = "zoo_tiny_thing.plugin"' in pyproject
    assert 'name = "zoo-tiny-thing"' in pyproject
    for path in out.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")  # no template placeholder left behind
        assert "${" not in path.read_text()


@pytest.mark.parametrize(("argv", "message"), [
    (["plugin", "new", "Tiny_GRU"], "plugin name 'Tiny_GRU' is not usable"),
    (["plugin", "new", "-gru"], "No such option"),
    (["plugin", "new", "gru", "--kind", "exporter"], "Invalid value for '--kind'"),
])
def test_bad_names_and_kinds_are_refused(tmp_path, argv, message):
    result = CliRunner().invoke(cli, [*argv, "--out", str(tmp_path / "pkg")])
    assert message in one_line_error(result)
    assert not (tmp_path / "pkg").exists()


def test_an_existing_directory_is_never_touched(tmp_path):
    out = tmp_path / "pkg"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["plugin", "new", "tiny", "--out", str(out)])
    assert "already exists and is not empty" in one_line_error(result)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_generated_package_installs_and_its_test_passes_unchanged(plugin_environment,
                                                                   tmp_path, kind):
    name = f"fresh-{kind}"
    out = tmp_path / name
    plugin_environment.run("zoo", "plugin", "new", name, "--kind", kind, "--out", str(out))
    plugin_environment.install(out)
    tested = plugin_environment.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                    str(out / "tests"), cwd=out)
    assert "2 passed" in tested
    listed = json.loads(plugin_environment.run("zoo", "list", name, "--json"))
    assert [(c["kind"], c["distribution"], c["version"]) for c in listed["components"]] == [
        (kind, f"zoo-{name}", "0.1.0")]
    # registering it (what `zoo list` does) must stay torch-free, like the built-ins
    probe = ("import sys; from zoo.registry import load_registry; "
             "load_registry(strict=True); print('torch' in sys.modules)")
    assert plugin_environment.run("python", "-c", probe).strip() == "False"


def test_a_name_an_installed_component_has_is_refused(tmp_path, registry):
    result = CliRunner().invoke(cli, ["plugin", "new", "gru-tied", "--out", str(tmp_path / "p")],
                                obj=registry)
    assert "architecture 'gru-tied' is already provided by zoo-lm" in one_line_error(result)
    assert not (tmp_path / "p").exists()


@pytest.mark.slow
def test_a_pretrained_package_from_a_run_installs_and_its_test_passes(plugin_environment,
                                                                      trained_run, tmp_path):
    out = tmp_path / "zoo-gru-tied-fresh"
    plugin_environment.run("zoo", "plugin", "new", "gru-tied/fresh", "--kind", "pretrained",
                           "--from", str(trained_run), "--out", str(out))
    plugin_environment.install(out)
    tested = plugin_environment.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                    str(out / "tests"), cwd=out)
    assert "1 passed" in tested
    listed = json.loads(plugin_environment.run("zoo", "list", "--kind", "pretrained", "fresh",
                                               "--json"))
    assert [(m["name"], m["distribution"]) for m in listed["pretrained"]] == [
        ("gru-tied/fresh", "zoo-gru-tied-fresh")]
