"""The command line: help for every command, `zoo list`, and one-line errors with exit code 2.

Every test here runs without torch installed (`nox -s pythons` runs them on
each declared Python); those that need a model live beside the training tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import click
import pytest

from cli_errors import one_line_error
from installed import installed_registry
from zoo.cli import cli
from zoo.cli.common import ZooGroup
from zoo.registry.host import installed_entry_points, load_registry
from zoo.version import __version__

pytestmark = pytest.mark.torch_free

def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[list[str]]:
    """Every command under ``group``, subcommands of subgroups included (``plugin new``)."""
    for name, command in sorted(group.commands.items()):
        yield [*prefix, name]
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))


def zoo_with_plugin_commands(registry) -> click.Group:
    """The ``zoo`` group as ``main()`` builds it: the built-ins plus the plugins' commands."""
    group = ZooGroup("zoo", commands=dict(cli.commands))
    registry.add_commands(group)
    return group


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``command``: every command of the installed zoo, plugins' included."""
    if "command" in metafunc.fixturenames:
        paths = [[], *command_paths(zoo_with_plugin_commands(installed_registry()))]
        metafunc.parametrize("command", paths, ids=[" ".join(c) or "zoo" for c in paths])


@pytest.fixture(scope="module")
def installed_cli(registry) -> click.Group:
    return zoo_with_plugin_commands(registry)


def test_every_command_has_help(runner, registry, installed_cli, command):
    result = runner.invoke(installed_cli, [*command, "--help"], obj=registry)
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_the_help_test_covers_every_builtin_command(installed_cli):
    listed = {" ".join(path) for path in command_paths(installed_cli)}
    builtins = {"list", "data", "data stats", "train", "sample", "chat", "show", "inspect",
                "eval", "score", "compare", "export", "serve", "plugin", "plugin new"}
    assert builtins <= listed


def test_a_plugins_command_is_enumerated_and_has_help(runner, make_plugin):
    plugin = make_plugin("greeter", """
        import click
        from zoo import hookimpl

        @click.command("greet")
        def greet():
            \"\"\"Say hello.\"\"\"

        @hookimpl
        def zoo_register_commands(cli):
            cli.add_command(greet)
    """)
    registry = load_registry([*installed_entry_points(), plugin], disabled=set(), strict=True)
    group = zoo_with_plugin_commands(registry)
    assert ["greet"] in list(command_paths(group))
    result = runner.invoke(group, ["greet", "--help"], obj=registry)
    assert result.exit_code == 0 and "Say hello." in result.output


def test_list_shows_builtins_with_their_distribution(runner, registry):
    result = runner.invoke(cli, ["list"], obj=registry)
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if " gru-tied " in line)
    assert line.startswith("architecture") and f"zoo-lm {__version__}" in line


def test_list_json_filters_by_kind_and_pattern(runner, registry):
    result = runner.invoke(cli, ["list", "--json", "--kind", "dataset"], obj=registry)
    listing = json.loads(result.output)
    assert {c["kind"] for c in listing["components"]} == {"dataset"}
    assert {"tinyshakespeare", "text"} <= {c["name"] for c in listing["components"]}
    result = runner.invoke(cli, ["list", "--json", "gru-t*"], obj=registry)
    [component] = json.loads(result.output)["components"]
    assert component["name"] == "gru-tied"
    assert component["distribution"] == "zoo-lm"
    assert component["config"]["hidden"] > 0


def test_list_json_gives_every_components_suggested_train_defaults(runner, registry):
    listing = json.loads(runner.invoke(cli, ["list", "--json"], obj=registry).output)
    defaults = {c["name"]: c["train_defaults"] for c in listing["components"]}
    assert defaults["transformer"] == {"lr": 2e-3, "min_lr": 2e-4, "weight_decay": 0.1,
                                       "block_size": 128, "batch_size": 32}
    assert defaults["gru-tied"] == {"batch_size": 32, "block_size": 128, "lr": 5e-3,
                                    "min_lr": 1e-4, "weight_decay": 0.0, "beta2": 0.95}
    assert defaults["lstm"] == {} and defaults["char"] == {}


def test_list_shows_the_train_defaults_an_architecture_suggests(runner, registry):
    # --kind: the pretrained transformers would add their line below
    result = runner.invoke(cli, ["list", "transformer", "--kind", "architecture"], obj=registry)
    assert result.exit_code == 0, result.output
    *table, blank, heading, line = result.output.splitlines()
    assert " transformer " in table[-1] and blank == ""
    assert heading.startswith("train defaults suggested (zoo train uses them")
    assert line.split() == ["transformer", "lr=0.002,", "min_lr=0.0002,", "weight_decay=0.1,",
                            "block_size=128,", "batch_size=32"]


def test_list_of_one_architecture_says_when_it_suggests_no_train_defaults(runner, registry):
    result = runner.invoke(cli, ["list", "lstm", "--kind", "architecture"], obj=registry)
    assert result.output.splitlines()[-1] == (
        "lstm suggests no train defaults: zoo train uses the train section's own")
    tokenizers = runner.invoke(cli, ["list", "--kind", "tokenizer"], obj=registry).output
    assert "train defaults" not in tokenizers


def test_list_shows_broken_plugins_without_failing(runner, make_plugin):
    registry = load_registry(
        [make_plugin("broken-one", "raise ImportError('missing dep')")], disabled=set()
    )
    result = runner.invoke(cli, ["list"], obj=registry)
    assert result.exit_code == 0
    assert "broken plugins:" in result.output and "missing dep" in result.output
    listing = json.loads(runner.invoke(cli, ["list", "--json"], obj=registry).output)
    assert listing["broken"][0]["plugin"] == "broken-one"


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["list", "--json"], ["train", "--help"],
                                  ["sample", "--help"]])
def test_help_and_list_never_import_torch(argv):
    code = (
        "import sys\nfrom zoo.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_python_dash_m_zoo_runs():
    result = subprocess.run([sys.executable, "-m", "zoo", "--version"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and __version__ in result.stdout


def test_unknown_architecture(runner, registry):
    line = one_line_error(runner.invoke(cli, ["train", "gruu"], obj=registry))
    assert line.startswith("error: no architecture 'gruu'; available: ") and "gru-tied" in line


def test_bad_set_key(runner, registry, small_corpus, tmp_path):
    result = runner.invoke(
        cli, ["train", "gru-tied", "--data", str(small_corpus), "--set", "model.hiden=9",
              "--out", str(tmp_path / "run")], obj=registry)
    line = one_line_error(result)
    assert "unknown key 'model.hiden'" in line and "valid keys: embed, hidden" in line
    assert not (tmp_path / "run").exists()


def test_unknown_tokenizer(runner, registry):
    line = one_line_error(runner.invoke(cli, ["train", "gru-tied", "--tokenizer", "wordz"],
                                         obj=registry))
    assert f"no tokenizer 'wordz'; available: {', '.join(registry.names('tokenizer'))}" in line


def test_existing_output_directory_is_never_overwritten(runner, registry, small_corpus, tmp_path,
                                                       tiny_run):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    result = runner.invoke(
        cli, ["train", "gru-tied", "--data", str(small_corpus), "--out", str(out), *tiny_run],
        obj=registry)
    assert "already exists" in one_line_error(result)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def _command_plugin(make_plugin, plugin_name: str, command: str, distribution: str):
    return make_plugin(plugin_name, f"""
        import click
        from zoo import hookimpl

        @click.command({command!r}, help="A plugin's command.")
        def command():
            click.echo("from {plugin_name}")

        @hookimpl
        def zoo_register_commands(cli):
            cli.add_command(command)
    """, distribution=distribution)


def test_a_plugin_command_may_not_shadow_a_builtin(runner, make_plugin):
    plugin = _command_plugin(make_plugin, "shadow", "list", "zoo-shadow")
    registry = load_registry([*installed_entry_points(), plugin], disabled=set())
    group = zoo_with_plugin_commands(registry)
    result = runner.invoke(group, ["list"], obj=registry)
    assert result.exit_code == 0 and "from shadow" not in result.output
    assert "conflict: command 'list' is registered by both zoo-lm" in result.output
    assert "zoo-shadow 1.0 (plugin 'shadow')" in result.output
    assert "ZOO_DISABLE_PLUGINS=shadow" in result.output


def test_two_plugins_adding_one_command_name_both_lose_it_with_a_message(runner, make_plugin):
    plugins = [_command_plugin(make_plugin, name, "hello", f"zoo-{name}")
               for name in ("first", "second")]
    registry = load_registry([*installed_entry_points(), *plugins], disabled=set())
    group = zoo_with_plugin_commands(registry)
    line = one_line_error(runner.invoke(group, ["hello"], obj=registry))
    assert "command 'hello' is registered by both zoo-first" in line and "zoo-second" in line
