"""Developer sessions: ``nox -s tests`` is the test command CI runs.

torch is installed first as the pinned CPU build (``ZOO_TORCH``, default
``torch==2.13.0``) so that the project's ordinary ``torch>=2.4`` range is
already satisfied and no CUDA wheels are pulled. The lint and type tools are
pinned so that a new release cannot turn CI red on its own.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "build_check", "docs"]
nox.options.reuse_existing_virtualenvs = True

def _put_pyenv_pythons_on_path() -> None:
    """Let nox find every Python that pyenv installed, not only the active one.

    pyenv's shims answer only for the active versions; its other
    interpreters are found by appending their ``bin`` folders to PATH (after
    everything else, so the usual ``python`` still comes first).
    """
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    folders = sorted(str(p / "bin") for p in root.glob("3.*") if (p / "bin").is_dir())
    os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), *folders])


_put_pyenv_pythons_on_path()
PYPROJECT = nox.project.load_toml("pyproject.toml")
TORCH = os.environ.get("ZOO_TORCH", "torch==2.13.0")
RUFF = "ruff==0.17.6"
MYPY = ["mypy==2.4.1", "types-tqdm==4.70.0.20261106"]
#: The docs site's tools, pinned in pyproject.toml's docs extra (mkdocs, mkdocs-material).
DOCS = PYPROJECT["project"]["optional-dependencies"]["docs"]
PACKAGES = {"zoo", "zoo_plugins", "zoo_exports"}
CORPUS = "zoo_plugins/datasets/data/tinyshakespeare.txt.gz"
#: The export manifest's JSON Schema, read by zoo and shipped for clients in other languages.
SCHEMA = "zoo_exports/manifest.schema.json"
#: The web exporter's page and module, copied into every web export.
WEB_PAGE = [f"zoo_exports/web_static/{name}" for name in ("index.html", "page.js", "zoo.js")]
#: What the sdist holds (pyproject.toml's only-include): the sources, tests and tools.
SDIST_PATHS = PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["only-include"]
#: The Python versions pyproject.toml's classifiers declare (requires-python agrees).
PYTHONS = nox.project.python_versions(PYPROJECT)
#: The torch-free tests (``-m torch_free``) live in these files; each Python runs them.
TORCH_FREE_TESTS = ["tests/zoo/test_cli.py", "tests/zoo/test_config.py",
                    "tests/zoo/test_registry.py"]


#: zoo's own trained models: a distribution of their own (zoo-lm-pretrained), not in the core.
PRETRAINED = "plugins/pretrained"
#: The most the pretrained wheel may weigh (issue 21: "under about 25 MB").
PRETRAINED_WHEEL_LIMIT = 25_000_000


def install_project(session: nox.Session, extras: str = "") -> None:
    session.install(TORCH)
    session.install("-e", f".{extras}")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite but the tests marked slow (about 3 minutes); ``-- --slow`` runs
    those too, as CI does. Other pytest options go after ``--`` as well (``-- -k registry``).

    zoo's pretrained package is installed too: every shipped model is checked."""
    install_project(session, "[test]")
    session.install("--no-deps", "-e", PRETRAINED)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS)
def pythons(session: nox.Session) -> None:
    """The torch-free tests (CLI help, zoo list, config parsing) on every declared Python.

    zoo is installed with every dependency but torch (whose CPU build is on
    hand only for one Python here). An interpreter the machine lacks is
    reported as skipped by nox; `nox -s pythons --error-on-missing-interpreters`
    makes that a failure.
    """
    dependencies = [d for d in PYPROJECT["project"]["dependencies"]
                    if not d.startswith("torch")]
    session.install(*dependencies, "pytest>=8")
    session.install("--no-deps", "-e", ".")
    session.run("python", "-c", "import importlib.util as u; assert not u.find_spec('torch')")
    session.run("pytest", "-m", "torch_free", *TORCH_FREE_TESTS, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and common bugs with ruff."""
    session.install(RUFF)
    session.run("ruff", "check", ".", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check the three packages with mypy (torch is left untyped to keep it fast)."""
    session.install(*MYPY, "pluggy", "click", "numpy")
    session.install("--no-deps", "-e", ".")
    session.run("mypy", *session.posargs)


@nox.session
def build_check(session: nox.Session) -> None:
    """Build both archives: the wheel holds exactly zoo, zoo_plugins, zoo_exports (and the
    packaged corpus, manifest schema and web page); the sdist holds exactly the tracked sources,
    nothing a checkout made."""
    session.install("build")
    out = Path(session.create_tmp()) / "dist"
    session.run("python", "-m", "build", "--outdir", str(out), silent=True)
    [wheel] = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        wheel_files = set(archive.namelist())
    tops = {name.split("/")[0] for name in wheel_files}
    names = {t for t in tops if not t.endswith((".dist-info", ".data"))}
    if names != PACKAGES:
        session.error(f"wheel top-level names are {sorted(names)}, expected {sorted(PACKAGES)}")
    for required in (CORPUS, SCHEMA, *WEB_PAGE):
        if required not in wheel_files:
            session.error(f"the wheel lacks {required}")
    session.log(f"{wheel.name}: top-level packages {sorted(names)}")

    core_size = wheel.stat().st_size

    session.run("python", "-m", "build", "--wheel", "--outdir", str(out / "pretrained"),
                PRETRAINED, silent=True)
    [pretrained] = (out / "pretrained").glob("*.whl")
    with zipfile.ZipFile(pretrained) as archive:
        shipped = {name for name in archive.namelist() if "/models/" in name}
    models = {name.rsplit("/", 1)[0] for name in shipped if name.endswith("/MODEL.md")}
    if pretrained.stat().st_size > PRETRAINED_WHEEL_LIMIT:
        session.error(f"{pretrained.name} is {pretrained.stat().st_size:,} bytes, over "
                      f"{PRETRAINED_WHEEL_LIMIT:,}")
    session.log(f"{pretrained.name}: {len(models)} models, {pretrained.stat().st_size:,} bytes; "
                f"the core wheel {core_size:,} bytes")

    [sdist] = out.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        sdist_files = {m.name.split("/", 1)[1] for m in archive.getmembers() if m.isfile()}
    tracked = session.run("git", "ls-files", *SDIST_PATHS, external=True, silent=True)
    expected = set(str(tracked).split()) | {"PKG-INFO"}
    if sdist_files != expected:
        session.error(f"the sdist differs from the tracked sources: extra "
                      f"{sorted(sdist_files - expected)}, missing {sorted(expected - sdist_files)}")
    session.log(f"{sdist.name}: exactly the {len(expected) - 1} tracked source files")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs site from docs/ with mkdocs (Material theme) into a temporary folder.

    The build is strict: a broken link, an unknown anchor or a page missing from the nav
    fails it. Options go after ``--`` (``-- --site-dir site`` keeps the built site).
    """
    session.install(*DOCS)
    site = Path(session.create_tmp()) / "site"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site), *session.posargs,
                env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(default=False)
def pretrained(session: nox.Session) -> None:
    """Retrain every model of zoo-lm-pretrained from its recipe (plugins/pretrained/recipes.toml)
    into a scratch folder and print each val loss beside the shipped one; not part of CI
    (about 80 minutes on 2 CPU cores, 3 on a GPU). ``-- --only NAME ...`` picks models."""
    install_project(session)
    session.install("--no-deps", "-e", PRETRAINED)
    scratch = Path(session.create_tmp()) / "pretrained-runs"
    shutil.rmtree(scratch, ignore_errors=True)  # zoo train never writes into an old run
    session.run("python", f"{PRETRAINED}/build.py", "check", "--out", str(scratch),
                *session.posargs)


BENCHMARKS = ["default_run", "tokenizers", "training_speed", "onnx", "list", "quality",
              "makemore", "fine_tuning", "web", "stop_strings", "threads", "precision"]


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Slow benchmarks (about 80 minutes on 2 cores): pick some with -- default_run quality."""
    install_project(session, "[test]")  # hatchling: the list benchmark builds plugin wheels
    for name in session.posargs or BENCHMARKS:
        session.run("python", f"tests/benchmarks/bench_{name}.py")
