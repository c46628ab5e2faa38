"""The registry: discovery through entry points, isolation of broken plugins, conflicts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from zoo import PLUGIN_API_VERSION
from zoo.errors import PluginError, ZooError
from zoo.registry import installed_entry_points, load_registry

GOOD = """
    from dataclasses import dataclass
    from zoo import hookimpl

    @dataclass
    class ToyConfig:
        width: int = 8  # a width

    def build(config, vocab_size):
        return ("toy", config.width, vocab_size)

    @hookimpl
    def zoo_register_architectures(register):
        register("toy", summary="a toy model", config=ToyConfig, factory=build)

    @hookimpl
    def zoo_register_datasets(register):
        register("toy-data", summary="toy data", config=ToyConfig,
                 factory="not_a_real_module_anywhere:Dataset")
"""

IMPORT_FAILS = """
    raise ImportError("needs the package 'unobtainium'")
"""

RAISES_IN_HOOK = """
    from dataclasses import dataclass
    from zoo import hookimpl

    @dataclass
    class Cfg:
        x: int = 1

    @hookimpl
    def zoo_register_architectures(register):
        register("half", summary="registered before the failure", config=Cfg, factory=dict)

    @hookimpl
    def zoo_register_tokenizers(register):
        raise RuntimeError("tokenizer hook exploded")
"""

MALFORMED = """
    from zoo import hookimpl

    class NotADataclass:
        pass

    @hookimpl
    def zoo_register_architectures(register):
        register("bad", summary="bad config", config=NotADataclass, factory=dict)
"""


def test_good_plugin_registers_with_its_distribution(make_plugin):
    registry = load_registry([make_plugin("toy-plugin", GOOD, "toy-dist", "2.3")], disabled=set())
    component = registry.get("architecture", "toy")
    assert component.summary == "a toy model"
    assert (component.provider.distribution, component.provider.version) == ("toy-dist", "2.3")
    assert component.load_factory()(component.default_config(), 5) == ("toy", 8, 5)
    assert registry.broken == []


def test_string_factory_is_imported_only_on_use(make_plugin):
    registry = load_registry([make_plugin("toy-plugin", GOOD)], disabled=set())
    component = registry.get("dataset", "toy-data")  # listed although its module is missing
    with pytest.raises(PluginError, match="not_a_real_module_anywhere"):
        component.load_factory()


def test_plugin_that_fails_to_import_is_broken_and_others_still_work(make_plugin):
    registry = load_registry(
        [make_plugin("broken-import", IMPORT_FAILS), make_plugin("toy-plugin", GOOD)],
        disabled=set(),
    )
    assert registry.names("architecture") == ["toy"]
    [broken] = registry.broken
    assert broken.provider.plugin == "broken-import"
    assert "unobtainium" in broken.error


def test_plugin_raising_in_a_hook_is_broken_and_registers_nothing(make_plugin):
    registry = load_registry(
        [make_plugin("exploding", RAISES_IN_HOOK), make_plugin("toy-plugin", GOOD)],
        disabled=set(),
    )
    assert registry.names("architecture") == ["toy"]  # "half" was rolled back
    [broken] = registry.broken
    assert "tokenizer hook exploded" in broken.error


def test_malformed_registration_is_broken(make_plugin):
    registry = load_registry([make_plugin("malformed", MALFORMED)], disabled=set())
    assert registry.names("architecture") == []
    [broken] = registry.broken
    assert "dataclass" in broken.error


def test_asking_for_a_missing_component_names_the_available_ones_and_broken_plugins(make_plugin):
    registry = load_registry(
        [make_plugin("toy-plugin", GOOD), make_plugin("broken-import", IMPORT_FAILS)],
        disabled=set(),
    )
    with pytest.raises(ZooError) as error:
        registry.get("architecture", "gruu")
    message = str(error.value)
    assert "no architecture 'gruu'; available: toy" in message
    assert "broken-import" in message and "\n" not in message


def test_duplicate_names_are_an_error_naming_both_providers(make_plugin):
    first = make_plugin("plugin-a", GOOD, "dist-a", "1.0")
    second = make_plugin("plugin-b", GOOD, "dist-b", "2.0")
    registry = load_registry([first, second], disabled=set())
    with pytest.raises(ZooError) as error:
        registry.get("architecture", "toy")
    message = str(error.value)
    assert "dist-a 1.0" in message and "dist-b 2.0" in message
    assert "ZOO_DISABLE_PLUGINS=plugin-b" in message


def test_disabled_plugin_is_not_loaded(make_plugin, monkeypatch):
    monkeypatch.setenv("ZOO_DISABLE_PLUGINS", "plugin-b, broken-import")
    entry_points = [
        make_plugin("plugin-a", GOOD, "dist-a"),
        make_plugin("plugin-b", GOOD, "dist-b"),
        make_plugin("broken-import", IMPORT_FAILS),
    ]
    registry = load_registry(entry_points)
    assert registry.get("architecture", "toy").provider.distribution == "dist-a"
    assert registry.broken == []


def test_strict_mode_reraises_plugin_errors(make_plugin, monkeypatch):
    monkeypatch.setenv("ZOO_STRICT", "1")
    with pytest.raises(RuntimeError, match="tokenizer hook exploded"):
        load_registry([make_plugin("exploding", RAISES_IN_HOOK)], disabled=set())


def test_plugin_needing_a_newer_api_is_refused_naming_both_versions(make_plugin):
    source = GOOD + "\n    ZOO_PLUGIN_API = 99\n"
    registry = load_registry([make_plugin("future", source)], disabled=set())
    [broken] = registry.broken
    assert "99" in broken.error and str(PLUGIN_API_VERSION) in broken.error
    assert registry.names("architecture") == []


def test_builtins_come_through_entry_points_of_this_distribution(registry):
    names = {ep.name: ep for ep in installed_entry_points()}
    for plugin in ("builtin-architectures", "builtin-tokenizers", "builtin-datasets"):
        assert plugin in names
        assert names[plugin].dist.name == "zoo-lm"
    assert registry.get("architecture", "gru-tied").provider.plugin == "builtin-architectures"
    assert {"char"} <= set(registry.names("tokenizer"))
    assert {"shakespeare", "text"} <= set(registry.names("dataset"))


def test_core_never_imports_the_builtin_or_export_packages():
    core = Path(__file__).resolve().parents[2] / "zoo"
    offenders = []
    for path in core.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            offenders += [
                f"{path.name}: {m}" for m in modules if m.split(".")[0] in {"zoo_plugins",
                                                                           "zoo_exports"}
            ]
    assert offenders == []
