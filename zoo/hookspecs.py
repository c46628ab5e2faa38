"""The hooks a zoo plugin may implement: the whole plugin API.

A plugin is a module named by an entry point in group ``zoo``; it implements
any of these with ``from zoo import hookimpl``. Each registration hook receives
a ``register`` callable:

    register(name, *, summary, config, factory, train_defaults=None)

- ``name``: the component's name, unique within its kind (``"gru-tied"``).
- ``summary``: one line shown by ``zoo list``.
- ``config``: a dataclass type; its fields, defaults and types drive
  ``--set section.key=value`` and validation.
- ``factory``: a callable, or a ``"module:attribute"`` string imported only
  when the component is used, so that listing never imports torch.
- ``train_defaults`` (architectures): train-section values that suit the
  model, e.g. ``{"lr": 1e-3}``; the user's ``--config`` and ``--set`` win.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("zoo")


@hookspec
def zoo_register_architectures(register: Any) -> None:
    """Register model architectures.

    ``factory(config, vocab_size)`` returns a ``torch.nn.Module`` with
    ``forward(idx[B,T], state=None) -> (logits[B,T,V], state)`` and
    ``init_state(batch_size) -> tuple of tensors``.
    """


@hookspec
def zoo_register_tokenizers(register: Any) -> None:
    """Register tokenizers.

    ``factory(config)`` returns an untrained tokenizer with ``train(texts,
    vocab_size)``, ``encode(text)``, ``decode(ids)``, ``vocab_size``,
    ``save(directory)`` and ``load(directory)``. Tokenizers never import torch.
    """


@hookspec
def zoo_register_datasets(register: Any) -> None:
    """Register datasets.

    ``factory(config)`` returns an object whose ``texts(split)`` gives the
    documents of split ``"train"`` or ``"val"`` as strings. Datasets never
    import torch.
    """


@hookspec
def zoo_register_exporters(register: Any) -> None:
    """Register exporters that turn a trained run into a deployable artifact.

    ``factory(config)`` returns an object with ``export(loaded_run, out_dir, log)``
    (``loaded_run`` is a :class:`zoo.runs.LoadedRun`) that writes ``out_dir`` with a
    ``manifest.json`` naming the exporter, and, if it can sample from what it
    wrote, ``generate(registry, export_dir, *, prompt, max_new_tokens, settings,
    num_samples, seed, on_text) -> list[str]``, used by ``zoo sample --onnx``.
    """


@hookspec
def zoo_register_commands(cli: Any) -> None:
    """Add click commands to the ``zoo`` command group: ``cli.add_command(cmd)``."""
