"""Small, quick training runs through the CLI, shared by the export tests and the web page's."""

from __future__ import annotations

from click.testing import CliRunner

from zoo.cli import cli
from zoo.registry.host import Registry

#: Options that make each built-in small enough to export in about a second.
SMALL_MODELS = {
    "rnn": ["--set", "model.embed=16", "--set", "model.hidden=24"],
    "lstm": ["--set", "model.embed=16", "--set", "model.hidden=24"],
    "gru": ["--set", "model.embed=16", "--set", "model.hidden=24"],
    # hidden != embed: the tied output reads the embedding through a projection
    "gru-tied": ["--set", "model.embed=16", "--set", "model.hidden=24"],
    "transformer": ["--set", "model.embed=32", "--set", "model.layers=2",
                    "--set", "model.heads=2", "--set", "model.block_size=16",
                    "--block-size", "16"],
}

FEW_STEPS = ["--steps", "6", "--batch-size", "4", "--device", "cpu", "--no-progress",
             "--set", "train.eval_interval=6", "--set", "train.eval_batches=1",
             "--set", "train.warmup_steps=1"]


def invoke(registry: Registry, *args: str) -> str:
    """Run a zoo command in-process; fail the test with its output if it does not succeed."""
    result = CliRunner().invoke(cli, list(args), obj=registry)
    assert result.exit_code == 0, result.output
    return result.output
