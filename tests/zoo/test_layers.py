"""The core's shape: role subpackages whose imports point down the layers only, no import
circles, and torch only above the storage layers.

The table below is the architecture. A module may import its own layer and the
layers under it; every import counts, including those inside functions and
under ``TYPE_CHECKING``, since each is a dependency a reader must follow.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

ZOO = Path(__file__).resolve().parents[2] / "zoo"

#: Bottom first. A module belongs to the entry with the longest prefix of its name.
LAYERS: list[tuple[str, ...]] = [
    ("zoo.version", "zoo.errors", "zoo.deprecated"),  # no zoo imports at all
    ("zoo.files",),  # atomic writes, paths, reading files back
    ("zoo.config",),  # values, TrainConfig, the section names (zoo.config.run is above)
    ("zoo.registry",),  # hookspecs, contracts, the plugin host, factory, scaffold
    ("zoo.config.run",),  # a run's config, assembled over the registry
    ("zoo.data",),  # documents, token streams, batches, token cache, stats
    ("zoo.runs",),  # run and export directories
    ("zoo.models",),  # devices, a run's weights: torch starts here
    ("zoo.sampling",),  # choosing tokens, the loop, torch sampler, chat, streaming
    ("zoo.training",),  # the loop and each of its jobs
    ("zoo.analysis",),  # inspection, novelty, plots, comparison, tables
    ("zoo.plugin", "zoo.testing"),  # the public surface for plugin authors
    ("zoo.api",),  # the facade: Run, Export and the five calls
    ("zoo.cli", "zoo.__main__"),  # thin click shells over zoo.api
    ("zoo",),  # the package root: hookimpl, Register and the API, re-exported
]
#: These layers never import torch (nor safetensors.torch, which imports it).
TORCH_FREE = ("zoo.version", "zoo.errors", "zoo.deprecated", "zoo.files", "zoo.config",
              "zoo.registry", "zoo.data", "zoo.runs")
TORCH = ("torch", "safetensors.torch")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> list[tuple[int, str]]:
    """Every module ``name`` imports (line, module); ``from pkg import module`` imports both."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # `from pkg import module` runs pkg's __init__ too: both are imported
                submodule = f"{base}.{alias.name}"
                found.append((node.lineno, base))
                if submodule in known:
                    found.append((node.lineno, submodule))
    return found


def layer_of(module: str) -> int:
    best, best_length = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    return best


def layer_violations(root: Path) -> list[str]:
    """Imports against the table, and torch imported by a torch-free layer."""
    found = modules(root)
    problems = []
    for name, path in found.items():
        for line, imported in imports_of(name, path, set(found)):
            where = f"{path.relative_to(root.parent)}:{line}"
            if imported.split(".")[0] == "zoo" and layer_of(imported) > layer_of(name):
                problems.append(f"{where}: {name} imports {imported}, a layer above it")
            if imported.startswith(TORCH) and layer_of(name) <= max(map(layer_of, TORCH_FREE)) \
                    and name.startswith(TORCH_FREE):
                problems.append(f"{where}: {name} imports {imported} in a torch-free layer")
    return problems


def import_circles(root: Path) -> list[list[str]]:
    """Groups of zoo modules that import each other, directly or through others (Tarjan)."""
    found = modules(root)
    graph = {name: {m for _, m in imports_of(name, path, set(found)) if m in found and m != name}
             for name, path in found.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for name in graph:
        if name not in index:
            visit(name)
    return circles


def test_every_core_module_has_a_layer():
    assert [name for name in modules(ZOO) if layer_of(name) < 0] == []


def test_imports_point_down_the_layers_and_torch_stays_above_the_storage_layers():
    assert layer_violations(ZOO) == []


def test_no_module_imports_a_module_that_imports_it_back():
    assert import_circles(ZOO) == []


def test_zoo_folder_holds_role_subpackages_not_a_flat_pile():
    top_modules = sorted(p.name for p in ZOO.glob("*.py"))
    assert top_modules == ["__init__.py", "__main__.py", "deprecated.py", "errors.py",
                           "plugin.py", "testing.py", "version.py"]
    assert {p.name for p in ZOO.iterdir() if (p / "__init__.py").exists()} == {
        "analysis", "api", "cli", "config", "data", "files", "models", "registry", "runs",
        "sampling", "training"}


@pytest.mark.parametrize("planted, expected", [
    ("def later():\n    from zoo.api import train\n", "zoo.files.atomic imports zoo.api"),
    ("import torch\n", "zoo.files.atomic imports torch in a torch-free layer"),
])
def test_the_layer_check_catches_a_planted_import(tmp_path, planted, expected):
    copy = tmp_path / "zoo"
    shutil.copytree(ZOO, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "files" / "atomic.py", "a", encoding="utf-8") as handle:
        handle.write("\n\n" + planted)
    assert any(expected in problem for problem in layer_violations(copy))


def test_the_circle_check_catches_a_planted_circle(tmp_path):
    copy = tmp_path / "zoo"
    shutil.copytree(ZOO, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "files" / "paths.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef later():\n    from zoo.training import loop\n")
    assert any({"zoo.files.paths", "zoo.training.loop"} <= set(c) for c in import_circles(copy))
