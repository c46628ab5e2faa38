"""Plugins see one public surface: ``zoo`` and ``zoo.plugin``; zoo 0.1's paths still work.

Built-in plugins and ``zoo_exports`` import from the core exactly what a third
party may, so the core's modules can move without breaking any plugin.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
import zoo.config
import zoo.plugin
from zoo.deprecated import MOVED

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_PACKAGES = [ROOT / "plugins" / "zoo_plugins", ROOT / "exports" / "zoo_exports"]
ALLOWED = {"zoo": {"hookimpl", "Register"}, "zoo.plugin": set(zoo.plugin.__all__)}


def core_imports(path: Path) -> list[str]:
    """Every ``zoo`` import in a file, as ``module:name`` (including those in functions)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [f"{a.name}:" for a in node.names if a.name.split(".")[0] == "zoo"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "zoo":
            found += [f"{node.module}:{a.name}" for a in node.names]
    return found


def test_built_in_plugins_and_exports_import_only_the_public_surface():
    outside = [f"{path.relative_to(ROOT)}: {found}"
               for package in PLUGIN_PACKAGES for path in sorted(package.rglob("*.py"))
               for found in core_imports(path)
               if found.split(":")[1] not in ALLOWED.get(found.split(":")[0], set())]
    assert outside == []


def test_the_surface_has_every_name_it_lists_and_no_torch():
    assert all(hasattr(zoo.plugin, name) for name in zoo.plugin.__all__)
    assert zoo.plugin.hookimpl is zoo.hookimpl and zoo.plugin.Register is zoo.Register
    code = "import sys, zoo.plugin; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


OLD_NAMES = [  # what plugins and notebooks of zoo 0.1 imported, and where it lives now
    ("zoo.config", "require", "zoo.config.values"),
    ("zoo.config", "InvalidValue", "zoo.config.values"),
    ("zoo.config", "TrainConfig", "zoo.config.training"),
    ("zoo.config", "RunConfig", "zoo.config.run"),
    ("zoo.documents", "ROWS", "zoo.data.documents"),
    ("zoo.loading", "reading", "zoo.files.reading"),
    ("zoo.atomic", "atomic_directory", "zoo.files.atomic"),
    ("zoo.sampling_loop", "SamplingSettings", "zoo.sampling.loop"),
    ("zoo.component_factory", "build_tokenizer", "zoo.registry.factory"),
    ("zoo.data", "encode_documents", "zoo.data.streams"),
    ("zoo.runs", "read_metrics", "zoo.runs.run_directory"),
    ("zoo.runs", "load_run", "zoo.models.loading"),
    ("zoo.training", "TrainingInterrupted", "zoo.training.interruption"),
    ("zoo.api", "default_registry", "zoo.registry.host"),
]


def test_old_module_paths_work_for_one_release_and_say_where_to_go():
    """Run in a fresh interpreter, so that no old path is imported or warned about yet."""
    code = f"""
import importlib, json, warnings
warnings.simplefilter("always")
report = {{}}
for old in {sorted(MOVED)!r}:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.import_module(old)
    report[old] = [str(w.message) for w in caught if w.category is DeprecationWarning]
names = {{}}
for old, name, new in {OLD_NAMES!r}:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = getattr(importlib.import_module(old), name)
    names[f"{{old}}.{{name}}"] = [value is getattr(importlib.import_module(new), name),
                                [str(w.message) for w in caught]]
print(json.dumps([report, names]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    modules, names = json.loads(result.stdout)
    packages = {"zoo.config", "zoo.data", "zoo.runs", "zoo.registry", "zoo.training", "zoo.api"}
    for old, messages in modules.items():
        if old in packages:  # still a package: only its old names warn
            assert messages == [], old
        else:
            assert len(messages) == 1 and messages[0].startswith(f"{old} is deprecated"), old
    for qualified, (same, _) in names.items():
        assert same, qualified
    new_messages = [m for qualified, (_, ms) in names.items() for m in ms
                    if qualified.rpartition(".")[0] in packages]
    assert all("moved to" in m and "zoo.plugin" in m for m in new_messages)
    assert names["zoo.config.require"][1] == [
        "zoo.config.require moved to zoo.config.values.require (or zoo.plugin, for plugin "
        "authors); the old path goes in zoo 0.3"]


def test_a_name_an_old_module_never_had_is_an_attribute_error():
    with pytest.raises(AttributeError, match="'zoo.config' has no attribute 'nothing_here'"):
        zoo.config.nothing_here  # noqa: B018
