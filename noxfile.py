"""Developer sessions: ``nox -s tests`` is the test command CI runs.

torch is installed first as the pinned CPU build (``ZOO_TORCH``, default
``torch==2.13.0``) so that the project's ordinary ``torch>=2.2`` range is
already satisfied and no CUDA wheels are pulled.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "build_check"]
nox.options.reuse_existing_virtualenvs = True

TORCH = os.environ.get("ZOO_TORCH", "torch==2.13.0")
PACKAGES = {"zoo", "zoo_plugins", "zoo_exports"}


def install_project(session: nox.Session, extras: str = "") -> None:
    session.install(TORCH)
    session.install("-e", f".{extras}")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest options after --, e.g. -- -k registry)."""
    install_project(session, "[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and common bugs with ruff."""
    session.install("ruff")
    session.run("ruff", "check", ".", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check the three packages with mypy (torch is left untyped to keep it fast)."""
    session.install("mypy", "pluggy", "click", "numpy", "types-tqdm")
    session.install("--no-deps", "-e", ".")
    session.run("mypy", *session.posargs)


@nox.session
def build_check(session: nox.Session) -> None:
    """Build the wheel; its top-level import names must be exactly zoo, zoo_plugins, zoo_exports."""
    session.install("build")
    out = Path(session.create_tmp()) / "dist"
    session.run("python", "-m", "build", "--wheel", "--outdir", str(out), silent=True)
    [wheel] = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    names = {t for t in tops if not t.endswith((".dist-info", ".data"))}
    if names != PACKAGES:
        session.error(f"wheel top-level names are {sorted(names)}, expected {sorted(PACKAGES)}")
    session.log(f"{wheel.name}: top-level packages {sorted(names)}")


BENCHMARKS = ["default_run", "tokenizers", "training_speed", "onnx", "list", "quality"]


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Slow benchmarks (about 80 minutes on 2 cores): pick some with -- default_run quality."""
    install_project(session, "[test]")  # hatchling: the list benchmark builds plugin wheels
    for name in session.posargs or BENCHMARKS:
        session.run("python", f"tests/benchmarks/bench_{name}.py")
