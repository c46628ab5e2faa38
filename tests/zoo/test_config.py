"""Run configuration: sections, TOML, --set overrides and their error messages."""

from __future__ import annotations

import dataclasses

import pytest

from zoo.config.run import RunConfig, build_run_config, choose_component
from zoo.config.training import TrainConfig
from zoo.config.values import parse_overrides, read_toml
from zoo.errors import ZooError

pytestmark = pytest.mark.torch_free  # nox -s pythons runs these on every Python


def test_defaults_are_char_tokenizer_and_tiny_shakespeare(registry):
    config = build_run_config(registry, {"model": {"name": "lstm"}})
    assert (config.model.name, config.tokenizer.name, config.dataset.name) == (
        "lstm", "char", "tinyshakespeare")
    assert config.train == TrainConfig()  # lstm suggests no train defaults


def test_an_architectures_train_defaults_fill_what_the_user_left_unset(registry):
    config = build_run_config(registry, {"model": {"name": "gru-tied"},
                                         "train": {"lr": 1e-3}})
    suggested = registry.get("architecture", "gru-tied").train_defaults
    assert suggested["batch_size"] == config.train.batch_size == 32
    assert config.train.lr == 1e-3  # the user's value wins
    assert config.train.steps == TrainConfig().steps  # what it does not suggest is the default


def test_overrides_are_converted_to_the_field_types(registry):
    config = build_run_config(
        registry,
        {"model": {"name": "gru-tied"}},
        ["model.hidden=512", "train.lr=1e-3", "dataset.name=text", "dataset.path=a.txt,b.txt"],
    )
    assert config.model.config.hidden == 512
    assert config.train.lr == pytest.approx(1e-3)
    assert config.dataset.name == "text"
    assert config.dataset.config.path == ["a.txt", "b.txt"]


def test_later_overrides_win(registry):
    config = build_run_config(
        registry, {"model": {"name": "gru-tied"}, "train": {"steps": 5}}, ["train.steps=7"]
    )
    assert config.train.steps == 7


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("model.hiden=3", "unknown key 'model.hiden' for architecture 'gru-tied'; "
                          "valid keys: embed, hidden, layers, dropout"),
        ("train.steps=abc", "train.steps must be int, got 'abc'"),
        ("train.steps=0", "train.steps=0 is not allowed for the training loop; it must be at "
                          "least 1"),
        ("modle.hidden=3", "unknown section 'modle'"),
        ("model.hidden", "--set expects section.key=value"),
        ("tokenizer.unknown=maybe", "tokenizer.unknown must be one of unk, error"),
        ("train.precision=fp16", "train.precision='fp16' is not allowed for the training loop; "
                                 "it must be one of auto, bfloat16, float32"),
    ],
)
def test_bad_values_name_the_key_and_the_way_out(registry, override, expected):
    with pytest.raises(ZooError) as error:
        build_run_config(registry, {"model": {"name": "gru-tied"}}, [override])
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_unknown_component_lists_the_available_ones(registry):
    with pytest.raises(ZooError, match="no dataset 'shakespear'; available: .*shakespeare"):
        build_run_config(
            registry, {"model": {"name": "gru-tied"}, "dataset": {"name": "shakespear"}}
        )


def test_toml_file_sets_sections(registry, tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[model]\nname = "gru-tied"\nhidden = 64\n[train]\nlr = 0.01\nsteps = 3\n')
    config = build_run_config(registry, read_toml(path))
    assert (config.model.config.hidden, config.train.lr, config.train.steps) == (64, 0.01, 3)


def test_toml_with_unknown_table_is_refused(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[optimizer]\nlr = 1\n")
    with pytest.raises(ZooError, match="unknown top-level entry 'optimizer'"):
        read_toml(path)


def test_invalid_toml_is_one_clear_error(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[model\n")
    with pytest.raises(ZooError, match="is not valid TOML"):
        read_toml(path)


def test_round_trip_through_dict(registry):
    config = build_run_config(registry, {"model": {"name": "gru-tied"}}, ["model.layers=3"])
    again = RunConfig.from_dict(registry, config.to_dict())
    assert again.to_dict() == config.to_dict()
    assert dataclasses.asdict(again.model.config)["layers"] == 3


def test_default_warmup_is_left_to_the_run_length(registry):
    config = build_run_config(registry, {"model": {"name": "gru-tied"}})
    assert config.train.warmup_steps is None  # min(100, steps // 10): zoo.training.optimization
    assert config.to_dict()["train"]["warmup_steps"] is None
    again = RunConfig.from_dict(registry, config.to_dict())
    assert again.train.warmup_steps is None
    explicit = build_run_config(registry, {"model": {"name": "gru-tied"}}, ["train.warmup_steps=7"])
    assert explicit.train.warmup_steps == 7


def test_overrides_parse_into_sections():
    assert parse_overrides(["train.steps=5", "model.hidden = 8", "train.steps=6"]) == {
        "model": {"hidden": "8"}, "tokenizer": {}, "dataset": {}, "train": {"steps": "6"}}
    assert parse_overrides(["export.opset=18"], ("export",)) == {"export": {"opset": "18"}}


@pytest.mark.parametrize(("text", "expected"), [
    ("opset=18", "--set expects export.key=value, got 'opset=18'"),
    ("model.hidden=3", "unknown section 'model' in --set model.hidden=3; sections: export"),
])
def test_an_exporters_overrides_have_one_section(text, expected):
    with pytest.raises(ZooError) as error:
        parse_overrides([text], ("export",))
    assert str(error.value) == expected


def test_choose_component_applies_values_to_the_defaults(registry):
    choice = choose_component(registry, "architecture", "gru-tied", {"hidden": "64"},
                              section="model")
    assert choice.name == "gru-tied" and choice.config.hidden == 64
    with pytest.raises(ZooError, match="unknown key 'model.hiden' for architecture 'gru-tied'"):
        choose_component(registry, "architecture", "gru-tied", {"hiden": 1}, section="model")


def test_training_shortcuts_are_train_fields_with_an_option_and_a_keyword_each():
    """The shortcut list is the one definition: zoo.train's keywords and zoo train's options
    both follow it, and each option's help is its TrainConfig field's comment."""
    import inspect

    import click

    import zoo
    from zoo.cli.train_command import train_command
    from zoo.config.run import TRAIN_SHORTCUTS
    from zoo.config.values import field_comments

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert set(TRAIN_SHORTCUTS) <= fields
    keywords = inspect.signature(zoo.api.train).parameters
    assert all(keywords[name].kind is inspect.Parameter.KEYWORD_ONLY for name in TRAIN_SHORTCUTS)
    options = {p.name: p for p in train_command.params if isinstance(p, click.Option)}
    comments = field_comments(TrainConfig)
    for name in TRAIN_SHORTCUTS:
        assert options[name].help.startswith(comments[name][1:]) or \
            comments[name][1:] in options[name].help
        assert options[name].help.endswith(f"(train.{name}).")


def test_training_shortcuts_given_become_train_settings():
    from zoo.config.run import shortcut_settings

    assert shortcut_settings({"steps": 300, "lr": None, "loggers": [], "device": "cpu"}) == {
        "train.steps": 300, "train.device": "cpu"}
    assert shortcut_settings({"loggers": ("tensorboard",)}) == {"train.loggers": ["tensorboard"]}
    with pytest.raises(ValueError, match="not training shortcuts"):
        shortcut_settings({"hidden": 3})
