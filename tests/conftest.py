"""Shared fixtures: the real registry, fake plugins, and small real corpora."""

from __future__ import annotations

import sys
import textwrap
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from zoo.registry.host import Registry

sys.path.insert(0, str(Path(__file__).parent))
from installed import installed_registry  # noqa: E402  (helper modules beside this file)
from plugin_environment import PluginEnvironment  # noqa: E402
from skip_policy import (  # noqa: E402,F401  (hooks: a skip for an unlisted reason fails the run)
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)
from slow_tests import (  # noqa: E402,F401  (hooks: slow tests run with --slow or -m)
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_report_header,
)

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """Keep the token and dataset caches of the tests out of the user's cache directory."""
    import os
    import tempfile

    os.environ["ZOO_CACHE"] = tempfile.mkdtemp(prefix="zoo-test-cache-")


class FakeEntryPoint:
    """An entry point in group ``zoo`` whose module the test wrote itself."""

    def __init__(self, name: str, module: str, distribution: str = "fake-dist",
                 version: str = "1.0") -> None:
        self.name = name
        self.value = module
        self.dist = SimpleNamespace(name=distribution, version=version)

    def load(self) -> Any:
        import importlib

        return importlib.import_module(self.value)


@pytest.fixture
def make_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a plugin module from source and return a fake entry point for it."""
    folder = tmp_path / "plugin_modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))

    def make(name: str, source: str, distribution: str = "fake-dist",
             version: str = "1.0") -> FakeEntryPoint:
        module = f"fake_zoo_plugin_{uuid.uuid4().hex[:10]}"
        (folder / f"{module}.py").write_text(textwrap.dedent(source))
        return FakeEntryPoint(name, module, distribution, version)

    return make


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The registry of the installed distribution: the built-ins, through entry points."""
    return installed_registry()


#: A test that asks for one of these arguments runs once for each registered component of
#: that kind, with the component's name as its id (timm's test_models.py pattern).
COMPONENT_ARGUMENTS = {
    "architecture_name": "architecture",
    "tokenizer_name": "tokenizer",
    "dataset_name": "dataset",
    "exporter_name": "exporter",
    "logger_name": "logger",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``architecture_name``, ``tokenizer_name`` and the others over every
    component of their kind in the installed registry."""
    for argument, kind in COMPONENT_ARGUMENTS.items():
        if argument in metafunc.fixturenames:
            names = installed_registry().names(kind)
            metafunc.parametrize(argument, names, ids=names)
    if "pretrained_name" in metafunc.fixturenames:  # the trained models installed
        names = sorted(installed_registry().pretrained)
        metafunc.parametrize("pretrained_name", names, ids=names)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def tiny_shakespeare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard Tiny Shakespeare file, as the copy packaged with zoo writes it out."""
    from zoo_plugins.datasets.tinyshakespeare import packaged_text

    path = tmp_path_factory.mktemp("corpus") / "tinyshakespeare.txt"
    path.write_text(packaged_text(), "utf-8")
    return path


@pytest.fixture(scope="session")
def small_corpus(tiny_shakespeare: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 60,000 characters of Tiny Shakespeare: enough for quick training runs."""
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    path.write_text(tiny_shakespeare.read_text("utf-8")[:60_000], "utf-8")
    return path


#: CLI options for a model and run small enough to train in about a second.
TINY_RUN = [
    "--set", "model.embed=32", "--set", "model.hidden=48", "--set", "model.layers=2",
    "--steps", "8", "--batch-size", "4", "--block-size", "32", "--device", "cpu",
    "--set", "train.eval_interval=4", "--set", "train.eval_batches=2",
    "--set", "train.warmup_steps=2", "--no-progress",
]


@pytest.fixture
def tiny_run() -> list[str]:
    """CLI options that make ``zoo train`` quick: a tiny model, a few steps, on the CPU."""
    return list(TINY_RUN)


@pytest.fixture(scope="session")
def trained_run(small_corpus: Path, tmp_path_factory: pytest.TempPathFactory,
                registry: Registry) -> Path:
    """A run trained once per session through the CLI, shared by read-only tests."""
    from zoo.cli import cli

    out = tmp_path_factory.mktemp("runs") / "tiny"
    result = CliRunner().invoke(
        cli, ["train", "gru-tied", "--data", str(small_corpus), "--out", str(out), *TINY_RUN],
        obj=registry,
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def trained_export(trained_run: Path, registry: Registry,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ONNX export of the session's trained run, made once, for read-only tests."""
    from zoo.cli import cli

    out = tmp_path_factory.mktemp("exports") / "tiny"
    result = CliRunner().invoke(cli, ["export", str(trained_run), "--onnx", "--out", str(out),
                                      "--set", "export.parity_steps=8"], obj=registry)
    assert result.exit_code == 0, result.output
    return out


#: The third-party plugin package under tests/ is installed and tested in its own
#: virtual environment (tests/test_external_plugin.py), not collected here.
collect_ignore = ["external_plugin"]


@pytest.fixture(scope="session")
def plugin_environment(tmp_path_factory: pytest.TempPathFactory) -> PluginEnvironment:
    """A fresh venv with zoo installed from its wheel, shared by the plugin-package tests."""
    return PluginEnvironment(tmp_path_factory.mktemp("plugin-env"))


@pytest.fixture
def document_window_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Each call of the padded rows' window finder from now on, as its arguments."""
    import zoo.data.batches

    calls: list[tuple[Any, ...]] = []
    real = zoo.data.batches.document_windows

    def counted(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(zoo.data.batches, "document_windows", counted)
    return calls
