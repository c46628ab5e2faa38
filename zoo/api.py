"""The Python API: everything the ``zoo`` command does, as calls for notebooks and scripts.

Each CLI command is a thin shell over one of these; the words are the same::

    import zoo

    run = zoo.train("gru-tied", steps=300)           # zoo train gru-tied --steps 300
    run.sample("ROMEO:", max_new_tokens=200)          # zoo sample RUN --prompt ROMEO: ...
    run.evaluate()                                    # zoo eval RUN
    export = run.export()                             # zoo export RUN --onnx
    zoo.load_export(export.directory).sample("ROMEO:")  # zoo sample --onnx DIR
    zoo.compare([run, "runs/other"]).plot()           # zoo compare RUN RUN --plot

Importing this module is cheap and never imports torch; torch is imported
when a model is built or loaded. :class:`Export` samples with onnxruntime
and numpy alone. A user's mistake raises :class:`zoo.errors.ZooError` with
one line naming it and the way out.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.errors import ZooError
from zoo.novelty import Novelty, novelty
from zoo.registry import Component, Registry, load_registry

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from zoo.chat import Chat
    from zoo.config import ComponentChoice, RunConfig
    from zoo.contracts import Tokenizer
    from zoo.inspection import Inspection
    from zoo.training import TrainingResult

PathLike = str | Path

_default_registry: Registry | None = None

#: ``zoo.train`` keyword -> the config key it sets (the CLI's shortcut options).
TRAIN_SHORTCUTS = {
    "steps": "train.steps",
    "batch_size": "train.batch_size",
    "block_size": "train.block_size",
    "lr": "train.lr",
    "device": "train.device",
    "seed": "train.seed",
    "stateful": "train.stateful",
    "compile": "train.compile",
    "max_seconds": "train.max_seconds",
    "init_from": "train.init_from",
    "loggers": "train.loggers",
    "sample_every": "train.sample_every",
}


def default_registry() -> Registry:
    """The registry of the installed plugins, loaded once per process on first use."""
    global _default_registry
    if _default_registry is None:
        _default_registry = load_registry()
    return _default_registry


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
    from zoo.registry import KINDS

    if kind is not None and kind not in KINDS:
        raise ZooError(f"no component kind {kind!r}; kinds: {', '.join(KINDS)}")
    return _registry(registry).select(kind, pattern)


# --- training ---------------------------------------------------------------------------


def _overrides(settings: Mapping[str, Any]) -> list[str]:
    """``{"model.hidden": 512}`` -> ``["model.hidden=512"]`` (values as ``--set`` reads them)."""
    overrides = []
    for key, value in settings.items():
        if isinstance(value, list | tuple):
            value = ",".join(str(item) for item in value)
        overrides.append(f"{key}={value}")
    return overrides


def config_layers(architecture: str, *, dataset: str | None = None,
                  tokenizer: str | None = None, data: PathLike | Iterable[PathLike] = (),
                  config: PathLike | Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """TOML-shaped sections from a config file or dict and the component choices (choices win).

    ``data`` selects the ``text`` dataset on those files, stored as absolute
    paths so that the run evaluates from any directory.
    """
    from zoo.config import SECTIONS, read_toml

    layers: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    given = read_toml(Path(config)) if isinstance(config, str | Path) else (config or {})
    for section, values in given.items():
        if section not in SECTIONS or not isinstance(values, Mapping):
            raise ZooError(f"config has an unknown section {section!r}; sections: "
                           f"{', '.join(SECTIONS)}")
        layers[section].update(values)
    layers["model"]["name"] = architecture
    paths = [str(Path(p).absolute()) for p in ([data] if isinstance(data, str | Path) else data)]
    if paths:
        if dataset not in (None, "text"):
            raise ZooError(f"data= reads local files with the text dataset, not {dataset!r}")
        dataset = "text"
        layers["dataset"] = {"path": paths}
    if dataset is not None:
        if layers["dataset"].get("name", dataset) != dataset:
            layers["dataset"] = {k: v for k, v in layers["dataset"].items() if k == "path"}
        layers["dataset"]["name"] = dataset
    if tokenizer is not None:
        if layers["tokenizer"].get("name", tokenizer) != tokenizer:
            layers["tokenizer"] = {}
        layers["tokenizer"]["name"] = tokenizer
    return layers


def train(
    architecture: str,
    *,
    data: PathLike | Iterable[PathLike] = (),
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
    seed: int | None = None,
    stateful: bool | None = None,
    compile: bool | None = None,
    max_seconds: float | None = None,
    init_from: PathLike | None = None,
    loggers: Sequence[str] | None = None,
    sample_every: int | None = None,
    registry: Registry | None = None,
    log: Callable[[str], None] | None = None,
    **settings: Any,
) -> Run:
    """Train ``architecture`` and return the finished :class:`Run` (``zoo train``).

    Settings apply in the CLI's order: defaults, ``config`` (a TOML file or a
    dict of sections), the keyword shortcuts, then ``settings`` given as
    ``**{"model.hidden": 512}`` (``--set model.hidden=512``). A progress bar
    shows in a terminal and in Jupyter alike (``progress=False`` hides it).
    An interrupt (Ctrl-C, or a notebook's stop button) raises
    :class:`zoo.training.TrainingInterrupted` and keeps the last checkpoint.

    ``loggers`` names loggers (``zoo list --kind logger``; ``--logger``) that
    receive every record besides ``metrics.jsonl``.

    ``init_from`` fine-tunes another run (``--init-from``): the new run keeps
    that run's architecture, model config, tokenizer and weights, and trains
    them with a new optimizer, schedule and the data given here.

    >>> run = zoo.train("bigram", steps=20, batch_size=8, block_size=16,
    ...                 out=tmp / "bigram", progress=False, log=lambda line: None)
    >>> run.step
    20
    """
    from zoo.config import build_run_config, check_schedule
    from zoo.runs import plan_run_directory

    registry = _registry(registry)
    for key in settings:
        if "." not in key:
            raise ZooError(f"zoo.train() got an unknown keyword {key!r}; give config keys as "
                           f"**{{'model.{key}': value}} (section.key)")
    shortcuts = {TRAIN_SHORTCUTS[name]: value for name, value in [
        ("steps", steps), ("batch_size", batch_size), ("block_size", block_size), ("lr", lr),
        ("device", device), ("seed", seed), ("stateful", stateful), ("compile", compile),
        ("max_seconds", max_seconds), ("loggers", list(loggers or []) or None),
        ("sample_every", sample_every)]
        if value is not None}
    layers = config_layers(architecture, dataset=dataset, tokenizer=tokenizer, data=data,
                           config=config)
    # however the source run is named (init_from=, --set train.init_from, a config file's
    # [train] init_from; later wins), the new run takes its model and tokenizer sections
    init_from = settings.pop("train.init_from", None) or init_from or \
        layers["train"].pop("init_from", None)
    if init_from:
        from zoo.fine_tuning import starting_sections

        layers.update(starting_sections(registry, init_from, architecture, tokenizer))
        shortcuts["train.init_from"] = str(Path(init_from).absolute())
    run_config = build_run_config(registry, layers, _overrides({**shortcuts, **settings}))
    check_schedule(run_config.train)
    run_dir = plan_run_directory(out, run_config.model.name)
    training = _train(registry, run_config, run_dir, resume=False, progress=progress,
                      log=log, numbered=out is None)
    run = Run(training.run_dir, registry)  # a default name may have taken a -2 suffix
    run.training = training
    return run


def _train(registry: Registry, run_config: RunConfig, run_dir: Path, *, resume: bool,
           progress: bool, log: Callable[[str], None] | None,
           numbered: bool = False) -> TrainingResult:
    from zoo.training import train_run

    return train_run(registry, run_config, run_dir, resume=resume, numbered=numbered,
                     progress=progress, log=log or _stderr)


# --- runs --------------------------------------------------------------------------------


def load(run_dir: PathLike, device: str = "cpu", *, registry: Registry | None = None) -> Run:
    """The trained run in ``run_dir``, with its model on ``device`` (``auto`` picks one).

    >>> zoo.load(run.directory).step == run.step
    True
    """
    from zoo.devices import resolve_device
    from zoo.runs import load_run

    registry = _registry(registry)
    loaded = load_run(registry, Path(run_dir), device=str(resolve_device(device)))
    return Run(Path(run_dir), registry, device=device, loaded=loaded)


def _sampling_settings(temperature: float, top_k: int | None, top_p: float | None) -> Any:
    from zoo.sampling_loop import SamplingSettings

    try:
        return SamplingSettings(temperature=temperature, top_k=top_k, top_p=top_p)
    except ValueError as error:
        raise ZooError(str(error)) from None


def _check_sampling_counts(max_new_tokens: int, num_samples: int) -> None:
    if max_new_tokens < 1 or num_samples < 1:
        raise ZooError(f"max_new_tokens and num_samples must be at least 1, got "
                       f"{max_new_tokens} and {num_samples}")


def _stream(generate: Callable[..., list[str]], options: dict[str, Any]) -> Iterator[str]:
    """Yield the text ``generate(on_text=...)`` produces, piece by piece, as it is made.

    ``generate`` runs in a worker thread; stopping the iteration early stops
    it at its next piece.
    """
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    class Stopped(Exception):
        pass

    def on_text(text: str) -> None:
        if stop.is_set():
            raise Stopped
        pieces.put(("text", text))

    def work() -> None:
        try:
            generate(**options, num_samples=1, on_text=on_text)
            pieces.put(("done", None))
        except Stopped:
            pass
        except BaseException as error:  # re-raised in the consumer's thread
            pieces.put(("error", error))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        while True:
            kind, value = pieces.get()
            if kind == "text":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()


class Sampler:
    """Samples text: what a :class:`Run` (PyTorch) and an :class:`Export` (its runtime) share.

    Subclasses give ``_generate()``, the ``generate(prompt=..., max_new_tokens=...,
    settings=..., num_samples=..., seed=..., on_text=...)`` of their backend, and
    ``_summary()``, the rows of their ``repr``.
    """

    directory: Path
    _registry: Registry
    _title = "zoo source"  # the heading of the HTML card a notebook shows

    def _generate(self) -> Callable[..., list[str]]:
        raise NotImplementedError

    def _summary(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def sample(self, prompt: str = "", max_new_tokens: int = 500, temperature: float = 0.8,
               top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
               num_samples: int = 1, stop: Sequence[str] = (),
               ignore_end_of_text: bool = False) -> list[str]:
        """``num_samples`` texts, each ``prompt`` and its continuation (``zoo sample``).

        A sample ends at ``max_new_tokens``, at the end-of-text token (unless
        ``ignore_end_of_text``: ``--ignore-eot``), or just before any of the
        ``stop`` strings (``--stop``), which works on the decoded text.

        >>> run.sample("ROMEO:", max_new_tokens=5, seed=0)[0].startswith("ROMEO:")
        True
        """
        _check_sampling_counts(max_new_tokens, num_samples)
        texts = self._generate()(prompt=prompt, max_new_tokens=max_new_tokens,
                                 settings=_sampling_settings(temperature, top_k, top_p),
                                 num_samples=num_samples, seed=seed, stop=tuple(stop),
                                 ignore_end_of_text=ignore_end_of_text)
        return [prompt + text for text in texts]

    def stream(self, prompt: str = "", max_new_tokens: int = 500, temperature: float = 0.8,
               top_k: int | None = None, top_p: float | None = None,
               seed: int | None = None, stop: Sequence[str] = (),
               ignore_end_of_text: bool = False) -> Iterator[str]:
        """Yield the continuation of ``prompt`` piece by piece, as it is made; it ends as
        :meth:`sample`'s does (text that may begin a stop string waits until it cannot).

        >>> "".join(run.stream("ROMEO:", max_new_tokens=5, seed=0)) == run.sample(
        ...     "ROMEO:", max_new_tokens=5, seed=0)[0].removeprefix("ROMEO:")
        True
        """
        _check_sampling_counts(max_new_tokens, 1)
        return _stream(self._generate(), {
            "prompt": prompt, "max_new_tokens": max_new_tokens, "seed": seed,
            "settings": _sampling_settings(temperature, top_k, top_p), "stop": tuple(stop),
            "ignore_end_of_text": ignore_end_of_text})

    def novelty(self, samples: Sequence[str]) -> Novelty:
        """How many ``samples`` are new, and how many are documents of the training or
        validation split of the dataset the model was trained on (makemore's figure;
        ``zoo sample --novelty``).

        >>> print(run.novelty(["First Citizen", "a name nobody wrote"]))
        novelty: 2 of 2 samples are new; 0 are in the training set, 0 in the validation set
        """
        from zoo.component_factory import build_dataset

        dataset = build_dataset(self._registry, self._dataset_choice())
        return novelty(samples, dataset.texts("train"), dataset.texts("val"))

    def _dataset_choice(self) -> ComponentChoice:
        raise NotImplementedError

    def __repr__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self._summary())
        return f"<zoo.{type(self).__name__} {str(self.directory)!r}: {details}>"

    def _repr_html_(self) -> str:
        return _html_card(f"{self._title} {self.directory}", self._summary())


class Run(Sampler):
    """A trained run: its model, tokenizer and config, and what can be done with it.

    ``model`` (a ``torch.nn.Module`` in eval mode), ``tokenizer``, ``config``
    (the four sections) and ``step`` are the pieces; :attr:`metrics` reads
    ``metrics.jsonl``. The run's files are read on first use (``zoo.load``
    reads them at once, to report a damaged run where it is opened).
    """

    _title = "zoo run"

    def __init__(self, directory: Path, registry: Registry, *, device: str = "cpu",
                 loaded: Any = None) -> None:
        self.directory = Path(directory)
        #: What the last ``zoo.train`` or :meth:`resume` of this object reported (steps,
        #: seconds, tokens/s, final evaluation); None for a run only loaded.
        self.training: TrainingResult | None = None
        self._registry = registry
        self._device = device
        self._loaded_run = loaded

    @property
    def _loaded(self) -> Any:
        if self._loaded_run is None:
            self._loaded_run = load(self.directory, self._device,
                                    registry=self._registry)._loaded_run
        return self._loaded_run

    @property
    def model(self) -> Any:
        return self._loaded.model

    @property
    def tokenizer(self) -> Tokenizer:
        tokenizer: Tokenizer = self._loaded.tokenizer
        return tokenizer

    @property
    def config(self) -> RunConfig:
        config: RunConfig = self._loaded.config
        return config

    @property
    def step(self) -> int:
        return int(self._loaded.step)

    @property
    def architecture(self) -> str:
        return str(self.config.model.name)

    def chat(self, *, user: str = "<prompt> ", reply: str = " <ai> ",
             max_new_tokens: int = 200, temperature: float = 0.8, top_k: int | None = None,
             top_p: float | None = None, seed: int | None = None) -> Chat:
        """A conversation with the model (``zoo chat``): ``chat.say(words)`` returns its reply,
        the model's state carried from turn to turn. Each turn is written
        ``user + words + reply + the model's reply`` (GruLM's format by default).

        >>> conversation = run.chat(user="First Citizen:\\n", reply="\\nSecond Citizen:\\n",
        ...                         seed=0, max_new_tokens=10)
        >>> isinstance(conversation.say("Who goes there?"), str)
        True
        """
        from zoo.chat import Chat, ChatFormat

        _check_sampling_counts(max_new_tokens, 1)
        return Chat(self.model, self.tokenizer, _sampling_settings(temperature, top_k, top_p),
                    max_new_tokens, seed, ChatFormat(user, reply))

    def inspect(self, text: str) -> Inspection:
        """What the model exposes while reading ``text`` (``zoo inspect``): gates, hidden
        states, attention or its table, as arrays in ``.views`` against ``.tokens``;
        ``.plot()`` draws them.

        >>> inside = run.inspect("ROMEO:")
        >>> inside.tokens[:3], sorted(inside.views)
        (['<|endoftext|>', 'R', 'O'], ['candidate', 'hidden state', 'reset gate', 'update gate'])
        """
        from zoo.inspection import inspect_text

        return inspect_text(self.model, self.tokenizer, text, self.architecture)

    @property
    def samples(self) -> list[dict[str, Any]]:
        """The samples made while training (``train.sample_every``), in step order:
        ``{"step", "prompt", "text", ...}`` each (``zoo show RUN --samples``).

        >>> run.samples
        []
        """
        return [m for m in self.metrics if m.get("split") == "sample"]

    def summary(self) -> list[tuple[str, str]]:
        """What ``zoo show RUN`` prints: (label, value) rows about the run."""
        return self._summary()

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """Every record of ``metrics.jsonl``: ``{"step", "split": "train"|"val", "loss", ...}``.

        >>> [m["step"] for m in run.metrics if m["split"] == "val"]
        [4, 8]
        """
        from zoo.runs import read_metrics

        return read_metrics(self.directory)

    @property
    def parameters(self) -> int:
        """Trainable parameters, each shared tensor counted once."""
        from zoo.component_factory import count_parameters

        return count_parameters(self.model)

    def _dataset_choice(self) -> ComponentChoice:
        return self.config.dataset

    def _generate(self) -> Callable[..., list[str]]:
        from zoo.torch_sampler import generate

        def run(**options: Any) -> list[str]:
            return generate(self.model, self.tokenizer, **options)

        return run

    def evaluate(self, split: str = "val", batch_size: int = 16, *,
                 progress: bool = True) -> dict[str, Any]:
        """Loss, perplexity, bits per character and byte, accuracy on every token of ``split``.

        The same numbers as ``zoo eval RUN --json``; a progress bar shows on a
        terminal or in Jupyter while it works.

        >>> scores = run.evaluate()
        >>> round(scores["perplexity"], 6) == round(math.exp(scores["loss"]), 6)
        True
        """
        from zoo.evaluation import evaluate_run

        if batch_size < 1:
            raise ZooError(f"batch_size must be at least 1, got {batch_size}")
        result = evaluate_run(self._registry, self._loaded, split, batch_size, progress)
        result.update(run=str(self.directory), architecture=self.architecture, step=self.step,
                      parameters=self.parameters)
        return result

    def plot(self) -> Figure:
        """The training and validation loss curves, by step and by wall time.

        >>> run.plot().savefig(tmp / "curves.png")
        """
        from zoo.plots import loss_curves

        return loss_curves([(self.directory.name, self.metrics)], unit="nats/token")

    def export(self, out: PathLike | None = None, exporter: str = "onnx", *,
               log: Callable[[str], None] | None = None, **options: Any) -> Export:
        """Export this run with ``exporter`` into ``out`` (default ``RUN/EXPORTER``).

        ``options`` are the exporter's config fields (``zoo list --kind exporter
        --json``), e.g. ``run.export(quantize="int8")``.

        >>> export = run.export(tmp / "export", parity_steps=16, log=print)  # doctest: +ELLIPSIS
        parity, 16 steps at batch 1: max |logits difference| ...
        >>> sorted(path.name for path in export.directory.iterdir())
        ['manifest.json', 'model.onnx', 'tokenizer']
        """
        from zoo.component_factory import build_component
        from zoo.config import choose_component
        from zoo.paths import plan_new_directory

        choice = choose_component(self._registry, "exporter", exporter, options, section="export")
        out_dir = plan_new_directory(Path(out) if out else self.directory / choice.name,
                                     "export directory")
        build_component(self._registry, "exporter", choice).export(
            self._loaded, out_dir, log=log or _stderr)
        return load_export(out_dir, registry=self._registry)

    def resume(self, steps: int | None = None, *, device: str | None = None,
               architecture: str | None = None, progress: bool = True,
               log: Callable[[str], None] | None = None) -> Run:
        """Continue training from the last checkpoint, up to ``steps`` in all (``--resume``).

        Only ``steps`` and ``device`` may change; ``architecture``, if given,
        must be the run's own (the CLI passes ``zoo train ARCH --resume``'s).

        >>> run.resume(steps=12, progress=False, log=lambda line: None).step
        12
        """
        from zoo.resume import resumed_run_config

        overrides = {key: value for key, value in
                     [("train.steps", steps), ("train.device", device)] if value is not None}
        run_config = resumed_run_config(self._registry, self.directory, overrides,
                                        architecture=architecture)
        self.training = _train(self._registry, run_config, self.directory, resume=True,
                               progress=progress, log=log)
        self._loaded_run = None  # the new checkpoint is read on next use
        return self

    def _summary(self) -> list[tuple[str, str]]:
        last = [m for m in self.metrics if m.get("split") == "val"]
        rows = [("architecture", self.architecture), ("parameters", f"{self.parameters:,}"),
                ("tokenizer", f"{self.config.tokenizer.name} (vocab {self._loaded.vocab_size})"),
                ("dataset", self.config.dataset.name),
                ("step", f"{self.step} of {self.config.train.steps}")]
        if last:
            rows.append(("val loss", f"{last[-1]['loss']:.4f} nats/token, "
                                     f"{last[-1]['bits_per_char']:.3f} bits/char"))
        return rows

    def __repr__(self) -> str:  # architecture, step and val loss: one line
        details = ", ".join(f"{k}={v}" for k, v in self._summary()[:1] + self._summary()[4:])
        return f"<zoo.Run {str(self.directory)!r}: {details}>"


# --- exports -----------------------------------------------------------------------------


def load_export(export_dir: PathLike, *, registry: Registry | None = None) -> Export:
    """The export in ``export_dir``; it samples with its exporter's runtime, never torch.

    >>> export = zoo.load_export(run.export(tmp / "onnx", log=lambda line: None).directory)
    >>> export.sample("ROMEO:", max_new_tokens=20, temperature=0) == run.sample(
    ...     "ROMEO:", max_new_tokens=20, temperature=0)
    True
    """
    return Export(Path(export_dir), _registry(registry))


class Export(Sampler):
    """An export directory and its manifest; ``sample`` and ``stream`` like a :class:`Run`."""

    _title = "zoo export"

    def __init__(self, directory: Path, registry: Registry) -> None:
        from zoo.exporting import read_export_manifest

        self.directory = directory
        self._registry = registry
        self.manifest, self._exporter = read_export_manifest(registry, directory)

    def _generate(self) -> Callable[..., list[str]]:
        generate = getattr(self._exporter, "generate", None)
        if generate is None:
            raise ZooError(f"the {self.manifest.get('exporter')!r} exporter cannot sample "
                           "from its exports")

        def run(**options: Any) -> list[str]:
            texts: list[str] = generate(self._registry, self.directory, **options)
            return texts

        return run

    def _dataset_choice(self) -> ComponentChoice:
        from zoo.config import choose_component

        recorded = self.manifest.get("dataset")
        if not isinstance(recorded, dict) or not isinstance(recorded.get("config"), dict):
            raise ZooError(f"the export {str(self.directory)!r} does not record its dataset "
                           "(it was made by an older zoo); export the run again")
        return choose_component(self._registry, "dataset", str(recorded.get("name")),
                                recorded["config"], section="dataset", made="this export")

    def _summary(self) -> list[tuple[str, str]]:
        keys = ["exporter", "architecture", "trained_steps", "vocab_size", "quantized"]
        return [(key, str(self.manifest[key])) for key in keys if key in self.manifest]



# --- comparing ---------------------------------------------------------------------------


@dataclasses.dataclass
class Comparison:
    """``zoo compare``'s table: one row per run, best first, and the runs' loss curves.

    Runs are ranked by bits per character when their tokenizers differ (loss
    per token is not comparable then), else by validation loss.
    """

    rows: list[dict[str, Any]]
    ranked_by: str  # "bits_per_char" or "val_loss"
    _curves: list[tuple[str, list[dict[str, Any]]]] = dataclasses.field(repr=False)

    COLUMNS = [("rank", "#"), ("run", "run"), ("architecture", "arch"),
               ("tokenizer", "tokenizer"), ("dataset", "dataset"), ("parameters", "params"),
               ("val_loss", "val loss"), ("bits_per_char", "bits/char"),
               ("train_tokens_per_s", "train tok/s"), ("sample_tokens_per_s", "sample tok/s")]

    def table(self) -> list[list[str]]:
        """The header and one row of formatted cells per run."""
        def cell(key: str, value: Any) -> str:
            if value is None:
                return "-"
            if key == "parameters":
                return f"{value / 1e6:.2f}M"
            if key in ("val_loss", "bits_per_char"):
                return f"{value:.4f}" if key == "val_loss" else f"{value:.3f}"
            if key.endswith("tokens_per_s"):
                return f"{value:,.0f}"
            return Path(value).name if key == "run" else str(value)

        header = [title for _, title in self.COLUMNS]
        return [header] + [[cell(key, row.get(key)) for key, _ in self.COLUMNS]
                           for row in self.rows]

    def __str__(self) -> str:
        table = self.table()
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        numeric = {i for i, (key, _) in enumerate(self.COLUMNS)
                   if key in ("rank", "parameters", "val_loss", "bits_per_char")
                   or key.endswith("tokens_per_s")}
        lines = ["  ".join(cell.rjust(w) if i in numeric else cell.ljust(w)
                           for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                 for row in table]
        return "\n".join(lines) + f"\nranked by {self.ranked_by.replace('_', ' ')}"

    def _repr_html_(self) -> str:
        from html import escape

        header, *body = self.table()
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                       for row in body)
        return (f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
                f"<p>ranked by {escape(self.ranked_by.replace('_', ' '))}</p>")

    def plot(self) -> Figure:
        """Loss curves of every run, by step and by wall time.

        In bits per character when the tokenizers differ (the training curve
        converted with each run's validation tokens per character), else in
        nats per token.
        """
        from zoo.plots import loss_curves

        unit = "bits/char" if self.ranked_by == "bits_per_char" else "nats/token"
        return loss_curves(self._curves, unit=unit)


def compare(runs: Iterable[PathLike | Run], device: str = "cpu", *, progress: bool = True,
            registry: Registry | None = None) -> Comparison:
    """Evaluate each run in full and tabulate them, best first (``zoo compare``).

    >>> comparison = zoo.compare([run, run.directory], progress=False)
    >>> [row["rank"] for row in comparison.rows], comparison.ranked_by
    ([1, 2], 'val_loss')
    """
    import statistics

    from zoo.evaluation import sampling_speed

    registry = _registry(registry)
    chosen = [r if isinstance(r, Run) else load(r, device, registry=registry) for r in runs]
    if not chosen:
        raise ZooError("compare needs at least one run")
    rows, curves = [], []
    for run in _progress(chosen, progress, "evaluating"):
        evaluation = run.evaluate(progress=progress)
        speeds = [m["tokens_per_s"] for m in run.metrics if m["split"] == "train"]
        rows.append({
            "run": str(run.directory), "architecture": run.architecture,
            "tokenizer": run.config.tokenizer.name, "dataset": run.config.dataset.name,
            "parameters": run.parameters, "step": run.step,
            "val_loss": evaluation["loss"], "bits_per_char": evaluation["bits_per_char"],
            "train_tokens_per_s": statistics.median(speeds) if speeds else None,
            "sample_tokens_per_s": sampling_speed(run.model, run._loaded.vocab_size),
        })
        curves.append((run.directory.name, run.metrics))
    ranked_by = "bits_per_char" if len({r["tokenizer"] for r in rows}) > 1 else "val_loss"
    order = sorted(range(len(rows)), key=lambda i: rows[i][ranked_by])
    for rank, index in enumerate(order, start=1):
        rows[index]["rank"] = rank
    return Comparison([rows[i] for i in order], ranked_by, [curves[i] for i in order])


# --- shared ------------------------------------------------------------------------------


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def _progress(items: list[Any], show: bool, what: str) -> Iterable[Any]:
    from tqdm.auto import tqdm

    return tqdm(items, desc=what, unit="run", disable=None if show and len(items) > 1 else True)


def _html_card(title: str, rows: list[tuple[str, str]]) -> str:
    from html import escape

    body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
                   for k, v in rows)
    return f"<div><strong>{escape(title)}</strong><table>{body}</table></div>"
