"""The plugin guide (docs/plugins/) matches the hookspecs, and its examples work."""

from __future__ import annotations

import inspect
import re

import click
import pytest
from click.testing import CliRunner

from docs_pages import page
from zoo.cli import cli
from zoo.registry import hookspecs
from zoo.registry.host import installed_entry_points, load_registry
from zoo.testing import check_architecture, check_dataset, check_tokenizer

HOOKS = {name: function for name, function in vars(hookspecs).items()
         if name.startswith("zoo_") and callable(function)}


#: The plugin guide's pages, in the order of the site's nav.
GUIDE = ["plugins/index.md", "plugins/hooks.md", "plugins/contracts.md", "plugins/testing.md"]


def _guide() -> str:
    return "\n".join(page(name) for name in GUIDE)


def _hook_sections() -> dict[str, tuple[str, str]]:
    """Hook name -> (the signature its heading gives, the section's first python block)."""
    guide = _guide()
    sections = {}
    for match in re.finditer(r"^## `(zoo_\w+)\((.*?)\)`\n(.*?)(?=^## |^# |\Z)", guide,
                             re.MULTILINE | re.DOTALL):
        code = re.search(r"```python\n(.*?)```", match.group(3), re.DOTALL)
        sections[match.group(1)] = (match.group(2), code.group(1) if code else "")
    return sections


def test_every_hook_has_a_section_with_its_exact_signature():
    sections = _hook_sections()
    assert set(sections) == set(HOOKS), (
        f"guide sections {sorted(sections)} differ from the hookspecs {sorted(HOOKS)}")
    for name, function in HOOKS.items():
        parameters = ", ".join(inspect.signature(function).parameters)
        assert sections[name][0] == parameters, (
            f"the guide gives {name}({sections[name][0]}), the hookspec {name}({parameters})")


def test_the_guide_states_the_plugin_api_version():
    import zoo

    assert f"`zoo.PLUGIN_API_VERSION` is `{zoo.PLUGIN_API_VERSION}`" in _guide()


def _registry_with(make_plugin, hook: str):
    plugin = make_plugin(f"guide-{hook}", _hook_sections()[hook][1], distribution="guide-example")
    return load_registry([*installed_entry_points(), plugin], disabled=set(), strict=True)


def test_architecture_example_passes_the_contract(make_plugin):
    component = _registry_with(make_plugin, "zoo_register_architectures").get(
        "architecture", "tiny-bigram")
    assert component.provider.distribution == "guide-example"
    check_architecture(component.load_factory(), component.default_config())


def test_tokenizer_example_passes_the_contract(make_plugin):
    component = _registry_with(make_plugin, "zoo_register_tokenizers").get(
        "tokenizer", "lower-chars")
    check_tokenizer(component.load_factory(), component.default_config())
    tokenizer = component.load_factory()(component.default_config())
    tokenizer.train(["ROMEO: hello"])
    pieces = tokenizer.portable()["pieces"]  # the char scheme: pieces[id] is the text of id
    ids = tokenizer.encode("ROMEO, hi!")
    assert "".join(pieces[i] for i in ids) == tokenizer.decode(ids) == "ROMEO? h??"


def test_dataset_example_passes_the_contract(make_plugin):
    component = _registry_with(make_plugin, "zoo_register_datasets").get("dataset", "counting")
    check_dataset(component.load_factory(), component.default_config())


def test_exporter_example_exports_a_run(make_plugin, trained_run, tmp_path):
    registry = _registry_with(make_plugin, "zoo_register_exporters")
    out = tmp_path / "weights"
    result = CliRunner().invoke(cli, ["export", str(trained_run), "--exporter", "weights",
                                      "--out", str(out)], obj=registry)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "model.safetensors"]


@pytest.mark.parametrize("argv", [["hello", "you"]])
def test_command_example_adds_a_command(make_plugin, argv):
    registry = _registry_with(make_plugin, "zoo_register_commands")
    group = click.Group("zoo")
    registry.add_commands(group)
    result = CliRunner().invoke(group, argv)
    assert result.exit_code == 0 and result.output == "hello, you\n"


def test_logger_example_receives_every_record(make_plugin, small_corpus, tiny_run, tmp_path):
    import csv

    from zoo.runs.run_directory import read_metrics

    registry = _registry_with(make_plugin, "zoo_register_loggers")
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "gru-tied", "--data", str(small_corpus), "--out",
                                      str(out), *tiny_run, "--logger", "csv-losses"],
                                obj=registry)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader((out / "losses.csv").read_text().splitlines()))
    expected = [[str(m["step"]), m["split"], str(m["loss"])] for m in read_metrics(out)]
    assert rows == expected


def test_pretrained_example_registers_what_its_models_json_lists(make_plugin, trained_run,
                                                                 registry, tmp_path):
    from zoo.api.publishing import publish_run, write_index
    from zoo.testing import check_pretrained

    folder = tmp_path / "plugin_modules"  # where make_plugin writes the example's module
    entry = publish_run(trained_run, folder / "models" / "gru-tied/guide", name="gru-tied/guide",
                        summary="the guide's example", registry=registry,
                        log=lambda line: None)
    write_index(folder / "models.json", {"gru-tied/guide": entry}, keep=False)
    guided = _registry_with(make_plugin, "zoo_register_pretrained")
    assert guided.pretrained["gru-tied/guide"].provider.distribution == "guide-example"
    check_pretrained("gru-tied/guide", guided)
