"""The registry: discovery through entry points, isolation of broken plugins, conflicts,
hooks called through pluggy, and the mistakes it catches at registration."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

from zoo.errors import PluginError, ZooError
from zoo.registry.host import installed_entry_points, load_registry
from zoo.version import PLUGIN_API_VERSION

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

pytestmark = pytest.mark.torch_free  # nox -s pythons runs these on every Python


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


MISSPELLED_HOOK = """
    from dataclasses import dataclass
    from zoo import hookimpl

    @dataclass
    class Cfg:
        x: int = 1

    @hookimpl
    def zoo_register_architecture(register):  # the hook is zoo_register_architectures
        register("typo", summary="never registered", config=Cfg, factory=dict)
"""

UNRELATED_HOOK = """
    from zoo import hookimpl

    @hookimpl
    def zoo_frobnicate():
        pass
"""


def test_misspelled_hook_makes_only_that_plugin_broken_naming_the_real_hook(make_plugin):
    registry = load_registry(
        [make_plugin("typo-plugin", MISSPELLED_HOOK), make_plugin("toy-plugin", GOOD)],
        disabled=set(),
    )
    assert registry.names("architecture") == ["toy"]
    [broken] = registry.broken
    assert broken.provider.plugin == "typo-plugin"
    assert broken.error == ("PluginError: unknown hook 'zoo_register_architecture'; "
                            "did you mean 'zoo_register_architectures'?")


def test_unknown_hook_far_from_any_real_one_lists_the_hooks(make_plugin):
    registry = load_registry([make_plugin("odd", UNRELATED_HOOK)], disabled=set())
    [broken] = registry.broken
    assert "unknown hook 'zoo_frobnicate'; the hooks are " in broken.error
    assert "zoo_register_architectures" in broken.error and "zoo_register_commands" in broken.error


def test_plugin_loaded_after_a_misspelled_one_keeps_its_commands(make_plugin):
    commands = """
        import click
        from zoo import hookimpl

        @hookimpl
        def zoo_register_commands(cli):
            cli.add_command(click.Command("ok", callback=lambda: None))
    """
    registry = load_registry(
        [make_plugin("typo-plugin", MISSPELLED_HOOK), make_plugin("commands", commands)],
        disabled=set(),
    )
    group = click.Group("zoo")
    registry.add_commands(group)
    assert list(group.commands) == ["ok"]
    assert [b.provider.plugin for b in registry.broken] == ["typo-plugin"]


def test_strict_mode_reraises_a_misspelled_hook(make_plugin, monkeypatch):
    monkeypatch.setenv("ZOO_STRICT", "1")
    with pytest.raises(PluginError, match="did you mean 'zoo_register_architectures'"):
        load_registry([make_plugin("typo-plugin", MISSPELLED_HOOK)], disabled=set())


def test_hookimpl_declaring_an_argument_the_hook_lacks_is_broken_on_one_line(make_plugin):
    source = """
        from zoo import hookimpl

        @hookimpl
        def zoo_register_tokenizers(registrar):
            pass
    """
    registry = load_registry([make_plugin("wrong-argument", source)], disabled=set())
    [broken] = registry.broken
    assert "registrar" in broken.error and "zoo_register_tokenizers" in broken.error
    assert "\n" not in broken.error


CALLS_WITHOUT_ARGUMENTS = """
    from zoo import hookimpl

    CALLED = []

    @hookimpl
    def zoo_register_datasets():
        CALLED.append("datasets")

    @hookimpl
    def zoo_register_commands():
        CALLED.append("commands")
"""


def test_hookimpls_declaring_no_arguments_are_still_called(make_plugin):
    import importlib

    entry_point = make_plugin("no-arguments", CALLS_WITHOUT_ARGUMENTS)
    registry = load_registry([entry_point], disabled=set())
    registry.add_commands(click.Group("zoo"))
    assert registry.broken == []
    assert importlib.import_module(entry_point.value).CALLED == ["datasets", "commands"]


def test_each_plugin_gets_its_own_register_naming_it_as_provider(make_plugin):
    other = GOOD.replace('"toy"', '"other-toy"').replace('"toy-data"', '"other-data"')
    registry = load_registry(
        [make_plugin("plugin-a", GOOD, "dist-a"), make_plugin("plugin-b", other, "dist-b")],
        disabled=set(),
    )
    assert registry.get("architecture", "toy").provider.distribution == "dist-a"
    assert registry.get("architecture", "other-toy").provider.distribution == "dist-b"
    assert registry.get("dataset", "other-data").provider.plugin == "plugin-b"


def test_failing_command_hook_breaks_only_its_plugin(make_plugin):
    failing = """
        from zoo import hookimpl

        @hookimpl
        def zoo_register_commands(cli):
            raise RuntimeError("no commands today")
    """
    commands = """
        import click
        from zoo import hookimpl

        @hookimpl
        def zoo_register_commands(cli):
            cli.add_command(click.Command("ok", callback=lambda: None))
    """
    registry = load_registry(
        [make_plugin("failing", failing), make_plugin("commands", commands)], disabled=set()
    )
    group = click.Group("zoo")
    registry.add_commands(group)
    assert list(group.commands) == ["ok"]
    [broken] = registry.broken
    assert broken.provider.plugin == "failing" and "no commands today" in broken.error


def _architecture_with_train_defaults(defaults: str, kind: str = "architectures") -> str:
    return f"""
        from dataclasses import dataclass
        from zoo import hookimpl

        @dataclass
        class Cfg:
            x: int = 1

        @hookimpl
        def zoo_register_{kind}(register):
            register("tuned", summary="with train defaults", config=Cfg, factory=dict,
                     train_defaults={defaults})
    """


def test_valid_train_defaults_are_stored_with_the_train_sections_types(make_plugin):
    source = _architecture_with_train_defaults('{"lr": "2e-3", "batch_size": 16}')
    registry = load_registry([make_plugin("tuned", source)], disabled=set(), strict=True)
    defaults = registry.get("architecture", "tuned").train_defaults
    assert defaults == {"lr": 0.002, "batch_size": 16}
    assert isinstance(defaults["lr"], float)


@pytest.mark.parametrize(
    ("defaults", "expected"),
    [
        ('{"lrr": 1e-3}', "architecture 'tuned' has bad train_defaults: unknown key "
                          "'train.lrr' for the training loop; valid keys: steps, "),
        ('{"lr": "fast"}', "architecture 'tuned' has bad train_defaults: "
                           "train.lr must be float, got 'fast'"),
        ('{"steps": 0}', "architecture 'tuned' has bad train_defaults: "
                         "train.steps=0 is not allowed for the training loop; "
                         "it must be at least 1"),
        ('["lr"]', "architecture 'tuned': train_defaults must be a dict of train-section keys"),
        ('{"lr": 1e-4}', "architecture 'tuned' has bad train_defaults: train.min_lr=0.0003 is "
                         "above train.lr=0.0001"),
    ],
    ids=["unknown-key", "bad-value", "unusable-value", "not-a-dict", "decay-above-peak"],
)
def test_bad_train_defaults_make_the_plugin_broken(make_plugin, defaults, expected):
    source = _architecture_with_train_defaults(defaults)
    registry = load_registry(
        [make_plugin("tuned", source), make_plugin("toy-plugin", GOOD)], disabled=set()
    )
    assert registry.names("architecture") == ["toy"]
    [broken] = registry.broken
    assert broken.provider.plugin == "tuned"
    assert broken.error.startswith(f"PluginError: {expected}")
    assert "\n" not in broken.error


def test_train_defaults_of_a_tokenizer_are_refused(make_plugin):
    source = _architecture_with_train_defaults('{"lr": 1e-3}', kind="tokenizers")
    registry = load_registry([make_plugin("tuned-tokenizer", source)], disabled=set())
    assert registry.names("tokenizer") == []
    [broken] = registry.broken
    assert broken.error == ("PluginError: tokenizer 'tuned': train_defaults is only for "
                            "architectures; remove it from this register() call")


def test_register_protocol_is_importable_from_zoo_and_types_the_hooks():
    import inspect
    import typing

    import zoo
    from zoo.registry import hookspecs

    assert zoo.Register is hookspecs.Register
    hints = typing.get_type_hints(hookspecs.zoo_register_architectures)
    assert hints["register"] is zoo.Register
    parameters = inspect.signature(zoo.Register.__call__).parameters
    assert list(parameters) == [
        "self", "name", "summary", "config", "factory", "train_defaults"
    ]
    assert parameters["train_defaults"].default is None


def test_packages_are_marked_typed():
    root = Path(__file__).resolve().parents[2]
    for package in ("zoo", "plugins/zoo_plugins", "exports/zoo_exports"):
        assert (root / package / "py.typed").is_file(), f"{package} has no py.typed"


def test_builtins_come_through_entry_points_of_this_distribution(registry):
    names = {ep.name: ep for ep in installed_entry_points()}
    for plugin in ("builtin-architectures", "builtin-tokenizers", "builtin-datasets"):
        assert plugin in names
        assert names[plugin].dist.name == "zoo-lm"
    assert registry.get("architecture", "gru-tied").provider.plugin == "builtin-architectures"
    assert {"char"} <= set(registry.names("tokenizer"))
    assert {"tinyshakespeare", "text"} <= set(registry.names("dataset"))


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
