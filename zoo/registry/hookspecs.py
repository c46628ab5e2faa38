"""The hooks a zoo plugin may implement: the whole plugin API.

A plugin is a module named by an entry point in group ``zoo``; it implements
any of these with ``from zoo import hookimpl``. A function marked with
``@hookimpl`` whose name is not one of these hooks makes the plugin broken,
with the nearest hook's name in the error. pluggy calls each implementation
with only the arguments it declares, so an implementation may leave out
arguments it does not use. Each registration hook receives a ``register``
callable, typed by :class:`Register`:

    register(name, *, summary, config, factory, train_defaults=None)

- ``name``: the component's name, unique within its kind (``"gru-tied"``).
- ``summary``: one line shown by ``zoo list``.
- ``config``: a dataclass type; its fields, defaults and types drive
  ``--set section.key=value`` and validation.
- ``factory``: a callable, or a ``"module:attribute"`` string imported only
  when the component is used, so that listing never imports torch.
- ``train_defaults`` (architectures only): train-section values that suit the
  model, e.g. ``{"lr": 1e-3}``; the user's ``--config`` and ``--set`` win.
  They are checked when registered: keys of :class:`zoo.config.training.TrainConfig`,
  values of their types.

Trained models are registered by ``zoo_register_pretrained``, whose
``register`` (typed by :class:`RegisterPretrained`) takes a run directory
instead of a config and a factory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import click

hookspec = pluggy.HookspecMarker("zoo")

#: Decorator for hook implementations: ``@hookimpl def zoo_register_...``.
hookimpl = pluggy.HookimplMarker("zoo")


class Register(Protocol):
    """The ``register`` callable a registration hook receives (``from zoo import Register``).

    A mistake (a bad name, a config that is not a dataclass with defaults, a
    bad ``train_defaults`` key or value) raises :class:`zoo.errors.PluginError`,
    and the plugin is listed as broken.
    """

    def __call__(
        self,
        name: str,
        *,
        summary: str,
        config: type[Any],
        factory: Callable[..., Any] | str,
        train_defaults: Mapping[str, Any] | None = None,
    ) -> None: ...


class RegisterPretrained(Protocol):
    """The ``register`` callable ``zoo_register_pretrained`` receives (plugin API 3).

    ``name`` is ``ARCHITECTURE/DATASET``, with an optional ``-VARIANT``
    (``"gru-tied/tinyshakespeare-bpe"``); ``summary`` one line for ``zoo list``;
    ``directory`` the run directory shipped as package data (``config.json``,
    ``model.safetensors``, ``tokenizer/``, ``metrics.jsonl`` and the model card
    ``MODEL.md``); ``sha256`` the hex digest of every file in it, by path relative
    to it (``"tokenizer/char.json"``). Loading checks every digest. A bad name, a
    missing file or a file without a digest raises :class:`zoo.errors.PluginError`.
    """

    def __call__(
        self,
        name: str,
        *,
        summary: str,
        directory: str | os.PathLike[str],
        sha256: Mapping[str, str],
    ) -> None: ...


@hookspec
def zoo_register_architectures(register: Register) -> None:
    """Register model architectures.

    ``factory(config, vocab_size)`` returns a ``torch.nn.Module`` with
    ``forward(idx[B,T], state=None) -> (logits[B,T,V], state)`` and
    ``init_state(batch_size) -> tuple of tensors``.
    """


@hookspec
def zoo_register_tokenizers(register: Register) -> None:
    """Register tokenizers.

    ``factory(config)`` returns an untrained tokenizer with ``train(texts,
    vocab_size)``, ``encode(text)``, ``decode(ids)``, ``vocab_size``,
    ``save(directory)`` and ``load(directory)``. Tokenizers never import torch.
    """


@hookspec
def zoo_register_datasets(register: Register) -> None:
    """Register datasets.

    ``factory(config)`` returns an object whose ``texts(split)`` gives the
    documents of split ``"train"`` or ``"val"`` as strings, and of ``"test"``
    if it has one (``KeyError`` if not). Datasets never import torch.
    """


@hookspec
def zoo_register_exporters(register: Register) -> None:
    """Register exporters that turn a trained run into a deployable artifact.

    ``factory(config)`` returns an object with ``export(loaded_run, out_dir, log)``
    (``loaded_run`` is a :class:`zoo.models.loading.LoadedRun`) that writes ``out_dir`` with a
    ``manifest.json`` naming the exporter, and, if it can sample from what it
    wrote, ``generate(registry, export_dir, *, prompt, max_new_tokens, settings,
    num_samples, seed, on_text) -> list[str]``, used by ``zoo sample --onnx``.
    """


@hookspec
def zoo_register_loggers(register: Register) -> None:
    """Register loggers: places a run's metrics and samples go besides ``metrics.jsonl``.

    ``factory(config)`` returns an object with ``start(run_dir, run_config)``
    (``run_config`` is the run's ``config.json`` content as a dict),
    ``record(entry)`` for each record appended to ``metrics.jsonl`` (a dict with
    ``step`` and ``split``: ``"train"`` and ``"val"`` records carry numbers,
    ``"sample"`` ones ``prompt`` and ``text``) and ``close()``. A run uses the
    loggers ``train.loggers`` names (``--logger NAME``), on the main rank only.
    """


@hookspec
def zoo_register_pretrained(register: RegisterPretrained) -> None:
    """Register trained models, each a run directory shipped in the plugin's package.

    A registered name is accepted wherever a run directory is (``zoo sample
    gru-tied/tinyshakespeare``, ``zoo.load(name)``, ``--init-from``); the model is
    read-only, and ``zoo list --kind pretrained`` lists it. Plugin API 3.
    """


@hookspec
def zoo_register_commands(cli: click.Group) -> None:
    """Add click commands to the ``zoo`` command group: ``cli.add_command(cmd)``."""
