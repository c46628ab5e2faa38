"""The ``zoo`` command line: ``zoo list``, ``zoo train``, ``zoo sample``, and plugin commands.

Every command imports torch (and other heavy modules) inside its function, so
``zoo --help`` and ``zoo list`` stay fast and torch-free.
"""

from __future__ import annotations

import sys

import click

from zoo.cli.chat_command import chat_command
from zoo.cli.common import ZooGroup, get_registry
from zoo.cli.compare_command import compare_command
from zoo.cli.data_command import data_command
from zoo.cli.eval_command import eval_command
from zoo.cli.export_command import export_command
from zoo.cli.inspect_command import inspect_command
from zoo.cli.list_command import list_command
from zoo.cli.plugin_command import plugin_command
from zoo.cli.sample_command import sample_command
from zoo.cli.score_command import score_command
from zoo.cli.serve_command import serve_command
from zoo.cli.show_command import show_command
from zoo.cli.train_command import train_command
from zoo.version import __version__


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zoo")
def cli() -> None:
    """A plugin-based zoo of small language models.

    \b
    zoo list                  every architecture, tokenizer, dataset and exporter
    zoo data stats DATASET    a corpus's size, vocabulary and token frequencies
    zoo train gru-tied        train a model (default: char tokenizer, Tiny Shakespeare)
    zoo sample runs/NAME      sample text from a trained run
    zoo chat runs/NAME        talk with it, its state carried from turn to turn
    zoo show runs/NAME        what a run is; --samples: the text it wrote as it learned
    zoo inspect runs/NAME     gates, hidden states or attention on a text, drawn
    zoo eval runs/NAME        held-out loss, perplexity, bits/char, accuracy
    zoo score RUN FILE...     how well a run (or an export) predicts any text
    zoo compare RUN RUN ...   one table and loss curves for several runs
    zoo export RUN --onnx     the one-token step as ONNX, for onnxruntime
    zoo sample --onnx DIR     sample from an export without torch
    zoo plugin new NAME       scaffold a plugin package of your own
    """


cli.add_command(list_command)
cli.add_command(train_command)
cli.add_command(sample_command)
cli.add_command(chat_command)
cli.add_command(show_command)
cli.add_command(inspect_command)
cli.add_command(eval_command)
cli.add_command(score_command)
cli.add_command(compare_command)
cli.add_command(export_command)
cli.add_command(serve_command)
cli.add_command(data_command)
cli.add_command(plugin_command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    registry = get_registry()
    registry.add_commands(cli)
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="zoo", obj=registry)
