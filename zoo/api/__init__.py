"""The Python API: everything the ``zoo`` command does, as calls for notebooks and scripts.

Each CLI command is a thin shell over one of these; the words are the same::

    import zoo

    run = zoo.train("gru-tied", steps=300)           # zoo train gru-tied --steps 300
    run.sample("ROMEO:", max_new_tokens=200)          # zoo sample RUN --prompt ROMEO: ...
    run.evaluate()                                    # zoo eval RUN
    export = run.export()                             # zoo export RUN --onnx
    zoo.load_export(export.directory).sample("ROMEO:")  # zoo sample --onnx DIR
    zoo.compare([run, "runs/other"]).plot()           # zoo compare RUN RUN --plot

This module is the facade: the five calls. :class:`~zoo.api.run.Run` and
:class:`~zoo.api.export.Export` live in modules of their own. Importing it is
cheap and never imports torch; torch is imported when a model is built or
loaded, and an :class:`Export` samples with onnxruntime and numpy alone. A
user's mistake raises :class:`zoo.errors.ZooError` with one line naming it and
the way out.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from zoo.analysis.comparison import Comparison
from zoo.api.export import Export
from zoo.api.run import PathLike, Run, load_run, train_run
from zoo.config.run import (
    TRAIN_SHORTCUTS,
    as_overrides,
    build_run_config,
    config_layers,
    shortcut_settings,
)
from zoo.config.training import check_schedule
from zoo.errors import ZooError
from zoo.registry.components import KINDS, Component
from zoo.registry.host import Registry, default_registry
from zoo.runs.pretrained import describe, locate_run
from zoo.runs.run_directory import plan_run_directory


def _registry(registry: Registry | None) -> Registry:
    return registry if registry is not None else default_registry()


def components(kind: str | None = None, pattern: str | None = None, *,
               registry: Registry | None = None) -> list[Component]:
    """Registered components, as ``zoo list [PATTERN] [--kind KIND]`` shows them.

    ``pattern`` is a substring or a glob. Each :class:`~zoo.registry.Component`
    has ``kind``, ``name``, ``summary``, ``config`` (its dataclass) and
    ``provider`` (distribution and version).

    >>> [c.name for c in zoo.components("architecture", "gru*")]
    ['gru', 'gru-tied']
    """
    if kind is not None and kind not in KINDS:
        raise ZooError(f"no component kind {kind!r}; kinds: {', '.join(KINDS)}")
    return _registry(registry).select(kind, pattern)


def train(
    architecture: str,
    *,
    data: PathLike | Iterable[PathLike] = (),
    val_data: PathLike | Iterable[PathLike] = (),
    test_data: PathLike | Iterable[PathLike] = (),
    dataset: str | None = None,
    tokenizer: str | None = None,
    config: PathLike | Mapping[str, Any] | None = None,
    out: PathLike | None = None,
    progress: bool = True,
    steps: int | None = None,
    batch_size: int | None = None,
    block_size: int | None = None,
    lr: float | None = None,
    device: str | None = None,
    threads: int | None = None,
    seed: int | None = None,
    stateful: bool | None = None,
    compile: bool | None = None,
    max_seconds: float | None = None,
    sample_every: int | None = None,
    loggers: Sequence[str] | None = None,
    init_from: PathLike | None = None,
    registry: Registry | None = None,
    log: Callable[[str], None] | None = None,
    **settings: Any,
) -> Run:
    """Train ``architecture`` and return the finished :class:`Run` (``zoo train``).

    Settings apply in the CLI's order: defaults, ``config`` (a TOML file or a
    dict of sections), the keyword shortcuts, then ``settings`` given as
    ``**{"model.hidden": 512}`` (``--set model.hidden=512``). ``data`` trains
    the ``text`` dataset on local files (``--data``); ``val_data`` and
    ``test_data`` give the validation and test splits as files of their own
    (``--val-data``, ``--test-data``). A progress bar shows in a terminal and
    in Jupyter alike (``progress=False`` hides it).
    An interrupt (Ctrl-C, or a notebook's stop button) raises
    :class:`zoo.training.interruption.TrainingInterrupted` and keeps the last
    checkpoint.

    The keyword shortcuts (``steps`` to ``init_from``) are the ``train`` keys
    of :data:`zoo.config.run.TRAIN_SHORTCUTS`, the same as ``zoo train``'s
    options. ``loggers`` names loggers (``zoo list --kind logger``;
    ``--logger``) that receive every record besides ``metrics.jsonl``.
    ``init_from`` fine-tunes another run (``--init-from``): the new run keeps
    that run's architecture, model config, tokenizer and weights, and trains
    them with a new optimizer, schedule and the data given here.

    >>> run = zoo.train("bigram", steps=20, batch_size=8, block_size=16,
    ...                 out=tmp / "bigram", progress=False, log=lambda line: None)
    >>> run.step
    20
    """
    given = {name: value for name, value in locals().items() if name in TRAIN_SHORTCUTS}
    registry = _registry(registry)
    for key in settings:
        if "." not in key:
            raise ZooError(f"zoo.train() got an unknown keyword {key!r}; give config keys as "
                           f"**{{'model.{key}': value}} (section.key)")
    shortcuts = shortcut_settings({k: v for k, v in given.items() if k != "init_from"})
    layers = config_layers(architecture, dataset=dataset, tokenizer=tokenizer, data=data,
                           val_data=val_data, test_data=test_data, config=config)
    # however the source run is named (init_from=, --set train.init_from, a config file's
    # [train] init_from; later wins), the new run takes its model and tokenizer sections
    init_from = settings.pop("train.init_from", None) or init_from or \
        layers["train"].pop("init_from", None)
    if init_from:
        # torch: it loads the source
        from zoo.training.fine_tuning import recorded_source, starting_sections

        layers.update(starting_sections(registry, init_from, architecture, tokenizer))
        shortcuts["train.init_from"] = recorded_source(registry, init_from)
    run_config = build_run_config(registry, layers, as_overrides({**shortcuts, **settings}))
    check_schedule(run_config.train)
    run_dir = plan_run_directory(out, run_config.model.name)
    training = train_run(registry, run_config, run_dir, resume=False, progress=progress,
                         log=log, numbered=out is None)
    # a default name may have taken a -2 suffix: the run is where training put it
    return Run(training.run_dir, registry, training=training)


def load(run_dir: PathLike, device: str = "cpu", *, registry: Registry | None = None) -> Run:
    """The trained run in ``run_dir``, or the pretrained model of that name, with its model on
    ``device`` (``auto`` picks one). A path that exists wins over a pretrained name.

    >>> zoo.load(run.directory).step == run.step
    True
    """
    registry = _registry(registry)
    location = locate_run(registry, run_dir)
    loaded = load_run(location.directory, registry, device)
    return Run(location.directory, registry, device=device, loaded=loaded,
               pretrained=location.pretrained)


def pretrained(pattern: str | None = None, *,
               registry: Registry | None = None) -> list[dict[str, Any]]:
    """The installed trained models, as ``zoo list --kind pretrained --json`` gives them:
    name, architecture, parameters, dataset, tokenizer, val loss, bits/char, size, provider.

    Each name loads with :func:`load` (``zoo.load("gru-tied/tinyshakespeare")``).
    """
    return [describe(model) for model in _registry(registry).select_pretrained(pattern)]


def load_export(export_dir: PathLike, *, registry: Registry | None = None) -> Export:
    """The export in ``export_dir``; it samples with its exporter's runtime, never torch.

    >>> export = zoo.load_export(run.export(tmp / "onnx", log=lambda line: None).directory)
    >>> export.sample("ROMEO:", max_new_tokens=20, temperature=0) == run.sample(
    ...     "ROMEO:", max_new_tokens=20, temperature=0)
    True
    """
    return Export(Path(export_dir), _registry(registry))


def compare(runs: Iterable[PathLike | Run], device: str = "cpu", *, progress: bool = True,
            registry: Registry | None = None) -> Comparison:
    """Evaluate each run in full and tabulate them, best first (``zoo compare``).

    >>> comparison = zoo.compare([run, run.directory], progress=False)
    >>> [row["rank"] for row in comparison.rows], comparison.ranked_by
    ([1, 2], 'val_loss')
    """
    from zoo.training.evaluation import sampling_speed  # torch: the runs are loaded

    registry = _registry(registry)
    chosen = [r if isinstance(r, Run) else load(r, device, registry=registry) for r in runs]
    if not chosen:
        raise ZooError("compare needs at least one run")
    rows, curves = [], []
    shown = progress and len(chosen) > 1
    for run in tqdm(chosen, desc="evaluating", unit="run", disable=None if shown else True):
        evaluation = run.evaluate(progress=progress)
        speeds = [m["tokens_per_s"] for m in run.metrics if m["split"] == "train"]
        rows.append({
            "run": run.shown, "architecture": run.architecture,
            "tokenizer": run.config.tokenizer.name, "dataset": run.config.dataset.name,
            "parameters": run.parameters, "step": run.step,
            "val_loss": evaluation["loss"], "bits_per_char": evaluation["bits_per_char"],
            "train_tokens_per_s": statistics.median(speeds) if speeds else None,
            "sample_tokens_per_s": sampling_speed(run.model, run.vocab_size),
        })
        curves.append((run.pretrained.name if run.pretrained else run.directory.name,
                       run.metrics))
    return Comparison.of(rows, curves)


__all__ = ["Comparison", "Export", "Run", "compare", "components", "load", "load_export",
           "pretrained", "train"]


def __getattr__(name: str) -> object:  # zoo 0.1's api module, for one release
    from zoo.deprecated import moved_name

    return moved_name(__name__, name)
