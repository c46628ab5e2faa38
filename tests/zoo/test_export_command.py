"""`zoo export`: each registered exporter brings its own flag and options (datasette's way)."""

from __future__ import annotations

import json

import pytest

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.registry.host import installed_entry_points, load_registry

WEIGHTS = """
    import json
    from dataclasses import dataclass

    from zoo import hookimpl


    @dataclass
    class WeightsConfig:
        precision: int = 32  # bits per stored weight


    class Weights:
        def __init__(self, config):
            self.config = config

        def export(self, loaded, out_dir, log=print):
            out_dir.mkdir(parents=True, exist_ok=True)
            manifest = {"exporter": "weights", "precision": self.config.precision}
            (out_dir / "manifest.json").write_text(json.dumps(manifest))
            return manifest


    @hookimpl
    def zoo_register_exporters(register):
        register("weights", summary="weights at a chosen precision", config=WeightsConfig,
                 factory=Weights)
"""


@pytest.fixture
def with_weights(make_plugin):
    plugin = make_plugin("weights-exporter", WEIGHTS, distribution="zoo-weights")
    return load_registry([*installed_entry_points(), plugin], disabled=set(), strict=True)


def test_help_lists_every_exporters_flag_and_options(runner, with_weights):
    result = runner.invoke(cli, ["export", "--help"], obj=with_weights)
    assert result.exit_code == 0
    for option in ("--onnx", "--opset", "--quantize", "--weights", "--precision"):
        assert option in result.output
    assert "onnx: ONNX opset of the exported graph (default 17)" in " ".join(result.output.split())
    assert "weights: bits per stored weight (default 32)" in " ".join(result.output.split())


def test_an_exporters_option_sets_its_config(runner, with_weights, trained_run, tmp_path):
    out = tmp_path / "w"
    result = runner.invoke(cli, ["export", str(trained_run), "--weights", "--precision", "16",
                                 "--out", str(out)], obj=with_weights)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text())["precision"] == 16


@pytest.mark.parametrize(("argv", "message"), [
    (["--onnx", "--precision", "16"], "--precision is not an option of the 'onnx' exporter; "
                                      "its options: opset, parity_steps, quantize, tolerance"),
    (["--onnx", "--weights"],
     "choose one exporter: --onnx, --web, --weights, or --exporter NAME"),
    (["--weights", "--precision", "lots"], "export.precision must be int, got 'lots'"),
])
def test_options_of_another_exporter_or_two_exporters_are_refused(
        runner, with_weights, trained_run, tmp_path, argv, message):
    out = tmp_path / "x"
    result = runner.invoke(cli, ["export", str(trained_run), *argv, "--out", str(out)],
                           obj=with_weights)
    assert message in one_line_error(result)
    assert not out.exists()
