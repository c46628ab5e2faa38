"""The docs pages and README agree with zoo: names, signatures, defaults and small examples.

The larger examples (what a command prints, the plugin guide's hook modules,
the numpy sampler) are checked beside the code they document (tests/test_readme.py,
tests/zoo/test_hookspecs.py, tests/zoo_exports/test_onnx_export.py); these
are the checks that need no trained run.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import re
import warnings
from typing import Any

import click
import pytest

import zoo
import zoo.plugin
import zoo.testing
from docs_pages import REPO, all_pages, fenced_block, page
from zoo.cli import cli
from zoo.config.training import TrainConfig


def _between(text: str, start: str, end: str = "\n\n") -> str:
    """The text from the first ``start`` up to the next ``end`` after it."""
    assert start in text, f"no {start!r}"
    begin = text.index(start)
    return text[begin:text.index(end, begin + len(start))]


def _table_after(text: str, marker: str) -> list[list[str]]:
    """The rows (cells stripped, header and rule left out) of the first table after ``marker``."""
    rest = text[text.index(marker):]
    table = re.search(r"^\|.*?(?=\n[^|]|\Z)", rest, re.MULTILINE | re.DOTALL)
    assert table, f"no table after {marker!r}"
    rows = [re.split(r"(?<!\\)\|", line.strip())[1:-1] for line in table.group(0).splitlines()]
    return [[cell.strip() for cell in row] for row in rows[2:]]


# README.md keeps the front matter the docs site also shows: one text in both places.


def test_readme_and_the_python_api_page_show_the_same_api_block():
    first = "import zoo\n"
    assert fenced_block("README.md", first, "python") == fenced_block("python-api.md", first,
                                                                       "python")


def test_readme_and_the_components_page_show_the_same_components_table():
    marker = "| kind | name | what it is |"
    assert _table_after(page("README.md"), marker) == _table_after(page("components.md"), marker)


def test_readme_and_the_home_page_show_the_same_results_table():
    marker = "| model | hardware, time | validation loss (nats/char) |"
    assert _table_after(page("README.md"), marker) == _table_after(page("index.md"), marker)


def _commands(group: click.Group, prefix: str = "zoo") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
        else:
            names.append(f"{prefix} {name}")
    return names


@pytest.mark.parametrize("command", _commands(cli))
def test_every_command_has_a_line_in_readme_and_a_section_in_the_cli_page(command):
    rows = _table_after(page("README.md"), "| command | what it does |")
    assert any(row[0].startswith(f"[`{command}") for row in rows), (
        f"README.md's command table has no line for {command}")
    assert re.search(rf"^## `{re.escape(command)}( --\w+)?`$", page("cli.md"), re.MULTILINE), (
        f"docs/cli.md has no section for {command}")


# The Python API page's call table gives each call's parameters and defaults as zoo has them.


def _documented_calls() -> list[tuple[str, str]]:
    rows = _table_after(page("python-api.md"), "| call | returns | the CLI's |")
    calls = []
    for row in rows:
        for call in re.finditer(r"`((?:zoo|Run|Export)\.\w+)\((.*?)\)`", row[0]):
            calls.append((call.group(1), call.group(2)))
    return calls


def _parameters(text: str) -> dict[str, Any]:
    """Documented parameters: name -> default (``inspect.Parameter.empty`` where none is
    given). ``name=`` alone names a parameter without its default; ``*``, ``...`` and
    ``**{...}`` are skipped."""
    found: dict[str, Any] = {}
    for part in re.split(r",\s*(?![^{(\[]*[})\]])", text):
        part = part.strip()
        if not part or part in ("*", "...") or part.startswith("**"):
            continue
        name, _, default = part.partition("=")
        found[name.strip()] = (ast.literal_eval(default) if default.strip()
                               else inspect.Parameter.empty)
    return found


@pytest.mark.parametrize(("call", "arguments"), _documented_calls(),
                         ids=[c for c, _ in _documented_calls()])
def test_the_api_tables_calls_take_the_documented_parameters(call, arguments):
    owner, name = call.split(".")
    function = getattr({"zoo": zoo, "Run": zoo.Run, "Export": zoo.Export}[owner], name)
    signature = inspect.signature(function)
    for parameter, default in _parameters(arguments).items():
        assert parameter in signature.parameters, f"{call} has no parameter {parameter!r}"
        if default is not inspect.Parameter.empty:
            assert signature.parameters[parameter].default == default, (
                f"{call}: the docs give {parameter}={default!r}, zoo "
                f"{signature.parameters[parameter].default!r}")


def test_the_train_sections_table_is_trainconfig():
    rows = _table_after(page("cli.md"), "| key | default | meaning |")
    documented: dict[str, str] = {}
    for key_cell, default_cell, _ in rows:
        keys = re.findall(r"`(\w+)`", key_cell)
        defaults = [d.strip() for d in default_cell.split(",")] if len(keys) > 1 else [
            default_cell]
        documented.update(zip(keys, defaults, strict=True))
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    assert list(documented) == list(fields)
    words = {"none": None, "false": False, "true": True, "auto": "auto", '""': "", "[]": []}
    for key, text in documented.items():
        field = fields[key]
        default = (field.default_factory() if field.default is dataclasses.MISSING
                   else field.default)
        expected = words[text] if text in words else float(text.replace(",", ""))
        assert default == expected, f"train.{key}: the docs give {text}, TrainConfig {default!r}"


def test_the_sample_options_table_names_options_zoo_sample_has():
    options = {opt for p in cli.commands["sample"].params for opt in p.opts}
    rows = _table_after(page("cli.md"), "| option | default | meaning |")
    assert len(rows) >= 10
    for row in rows:
        assert row[0].strip("`") in options, f"zoo sample has no option {row[0]}"


# The plugin guide.


def test_the_register_signature_is_the_one_zoo_register_has():
    documented = fenced_block("plugins/index.md", "register(", "python").strip()
    signature = inspect.signature(zoo.Register.__call__)
    names = [str(p).split(":")[0] + (f"={p.default!r}" if p.default is not p.empty else "")
             for p in list(signature.parameters.values())[1:]]
    names.insert([p.kind for p in signature.parameters.values()][1:].index(
        inspect.Parameter.KEYWORD_ONLY), "*")
    assert documented == f"register({', '.join(names)}) -> None"


def test_every_name_zoo_plugin_offers_is_in_the_guides_table():
    rows = _table_after(page("plugins/index.md"), "| names | what they are for |")
    documented = [name for row in rows for name in re.findall(r"`(\w+)`", row[0])]
    assert sorted(documented) == sorted(zoo.plugin.__all__)


def test_the_require_example_refuses_as_its_comment_says():
    code = fenced_block("plugins/hooks.md", "from zoo.plugin import require", "python")
    namespace: dict[str, Any] = {}
    exec(compile("from dataclasses import dataclass\n" + code, "hooks.md", "exec"), namespace)
    config = namespace["TinyBigramConfig"]
    assert config(scale=2.0).scale == 2.0
    with pytest.raises(zoo.plugin.InvalidValue, match="must be above 0"):
        config(scale=0)


#: The contract checks zoo.testing offers plugin authors, as its own docstring lists them.
CHECKS = re.findall(r":func:`(check_\w+)`", zoo.testing.__doc__ or "")


def test_zoo_testing_lists_its_contract_checks():
    assert {"check_architecture", "check_tokenizer", "check_dataset",
            "check_exporter"} <= set(CHECKS)


@pytest.mark.parametrize("name", CHECKS)
def test_each_contract_check_is_documented_with_its_signature(name):
    match = re.search(rf"^- `{name}\((.*?)\)`", page("plugins/testing.md"), re.MULTILINE)
    assert match, f"docs/plugins/testing.md does not document {name}"
    signature = inspect.signature(getattr(zoo.testing, name))
    documented = _parameters(match.group(1))
    positional = [p.name for p in signature.parameters.values()
                  if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert list(documented) == positional, (
        f"docs give {name}({', '.join(documented)}), zoo.testing {name}{signature}")
    for parameter, default in documented.items():
        assert signature.parameters[parameter].default == default


# The contributing page's layer table is the one tests/zoo/test_layers.py enforces.


def _enforced_layers() -> list[set[str]]:
    source = (REPO / "tests" / "zoo" / "test_layers.py").read_text("utf-8")
    for node in ast.parse(source).body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(isinstance(target, ast.Name) and target.id == "LAYERS" for target in targets):
            return [set(row) for row in ast.literal_eval(node.value)]
    raise AssertionError("tests/zoo/test_layers.py has no LAYERS table")


def _module(path: str) -> str:
    """``files/`` -> ``zoo.files``, ``config/run.py`` -> ``zoo.config.run``, ``__init__.py`` ->
    ``zoo``."""
    name = path.removesuffix("/").removesuffix(".py").replace("/", ".")
    return "zoo" if name == "__init__" else f"zoo.{name}"


def test_the_contributing_pages_layers_are_the_enforced_ones():
    rows = _table_after(page("contributing.md"), "| layer (bottom first) | what it holds |")
    documented = [{_module(path) for path in re.findall(r"`([\w/.]+)`", row[0])} for row in rows]
    assert documented == _enforced_layers()


# Every module path the docs name resolves, and only the old paths the docs call old warn.


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


#: ``from zoo... import a, b`` (or zoo_plugins, zoo_exports) in a python block.
IMPORT_FROM_ZOO = re.compile(r"^\s*from (zoo(?:_plugins|_exports)?(?:\.\w+)*) import ([\w, ]+)$",
                             re.MULTILINE)


def _named_paths() -> list[tuple[str, str, bool]]:
    """(page, dotted name, whether the page calls it deprecated) for each ``zoo...`` name in
    inline code and each ``from zoo... import`` in a python block."""
    named = set()
    for name, text in all_pages().items():
        for paragraph in re.split(r"\n\s*\n", text):
            old = "DeprecationWarning" in paragraph
            for span in re.findall(r"`([^`\n]+)`", paragraph):
                dotted = re.match(r"(zoo(?:_plugins|_exports)?(?:\.[A-Za-z_]\w*)+)", span)
                if dotted and not dotted.group(1).endswith((".js", ".json", ".py")):
                    named.add((name, dotted.group(1), old))
        for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
            for module, names in IMPORT_FROM_ZOO.findall(block):
                named.update((name, f"{module}.{n.strip()}", False) for n in names.split(","))
    return sorted(named)


@pytest.mark.parametrize(("page_name", "dotted", "old"), _named_paths(),
                         ids=[f"{p}:{d}" for p, d, _ in _named_paths()])
def test_every_zoo_name_the_docs_give_is_where_they_say(page_name, dotted, old):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _resolve(dotted)
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)
                    and "zoo" in str(w.message)]
    if old:
        assert deprecations, f"{page_name} calls {dotted} an old path, but it does not warn"
    else:
        assert not deprecations, f"{page_name} names {dotted}, an old path: " \
                                 f"{deprecations[0].message}"


def test_every_python_block_in_the_docs_parses():
    for name, text in all_pages().items():
        for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
            if block.startswith("register("):  # a signature, checked above
                continue
            ast.parse(block, filename=name)
