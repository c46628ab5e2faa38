"""Shared fixtures: the real registry, fake plugins, and small real corpora."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from zoo.registry import Registry, load_registry

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """Keep the token and dataset caches of the tests out of the user's cache directory."""
    import os
    import tempfile

    os.environ["ZOO_CACHE"] = tempfile.mkdtemp(prefix="zoo-test-cache-")
TINY_SHAKESPEARE = REPO.parent / "shared" / "data" / "tinyshakespeare.txt"


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
    return load_registry(disabled=set(), strict=True)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def tiny_shakespeare() -> Path:
    if not TINY_SHAKESPEARE.exists():
        pytest.skip(f"{TINY_SHAKESPEARE} is not present")
    return TINY_SHAKESPEARE


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


#: The third-party plugin package under tests/ is installed and tested in its own
#: virtual environment (tests/test_external_plugin.py), not collected here.
collect_ignore = ["external_plugin"]


class PluginEnvironment:
    """A fresh virtual environment with zoo's wheel installed, for plugin packages.

    zoo and each plugin are built into wheels and installed with pip, exactly as
    a user installs them; the heavy third-party dependencies (torch, onnx, ...)
    are reached through a ``.pth`` file naming this environment's site-packages,
    so that nothing is downloaded.
    """

    def __init__(self, root: Path) -> None:
        import site
        import subprocess
        import sys

        self.root = root
        self.wheels = root / "wheels"
        subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
        self.python = root / "venv" / "bin" / "python"
        self.bin = root / "venv" / "bin"
        self.install(REPO)
        purelib = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True).stdout.strip()
        outer = [p for p in site.getsitepackages() if Path(p).is_dir()]
        (Path(purelib) / "zoo_test_dependencies.pth").write_text("\n".join(outer) + "\n")

    def install(self, source: Path) -> None:
        """Build ``source`` into a wheel (no network) and pip-install it into the venv."""
        import subprocess
        import sys

        out = self.wheels / source.name
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--no-build-isolation", "--wheel-dir", str(out), str(source)], check=True)
        subprocess.run([str(self.python), "-m", "pip", "install", "--quiet", "--no-deps",
                        "--no-index", *map(str, out.glob("*.whl"))], check=True)

    def run(self, *args: str, cwd: Path | None = None) -> str:
        """Run a command of the venv (``zoo``, ``python``, ...); fail with its output."""
        import subprocess

        program = args[0] if args[0].startswith("/") else str(self.bin / args[0])
        result = subprocess.run([program, *args[1:]], capture_output=True, text=True, cwd=cwd,
                                env={"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(self.root),
                                     "ZOO_CACHE": str(self.root / "cache")})
        assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout


@pytest.fixture(scope="session")
def plugin_environment(tmp_path_factory: pytest.TempPathFactory) -> PluginEnvironment:
    """A fresh venv with zoo installed from its wheel, shared by the plugin-package tests."""
    return PluginEnvironment(tmp_path_factory.mktemp("plugin-env"))
