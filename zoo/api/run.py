"""A trained run, for notebooks and scripts: its model, tokenizer and config, and what can be
done with it (sample, score, chat, inspect, evaluate, plot, export, resume)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.analysis.scoring import Scores, score_documents
from zoo.api.export import Export
from zoo.api.sampler import (
    Generate,
    Sampler,
    log_to_stderr,
)
from zoo.config.run import choose_component
from zoo.errors import ZooError
from zoo.files.paths import plan_new_directory
from zoo.files.reading import read_text_file
from zoo.registry.components import PretrainedModel
from zoo.registry.factory import build_component, count_parameters
from zoo.registry.host import Registry
from zoo.runs.run_directory import CARD_FILE, read_metrics

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from zoo.analysis.inspection import Inspection
    from zoo.config.run import RunConfig
    from zoo.config.sections import ComponentChoice
    from zoo.models.loading import LoadedRun
    from zoo.registry.contracts import Tokenizer
    from zoo.sampling.chat import Feed
    from zoo.training.loop import TrainingResult

PathLike = str | Path


def train_run(registry: Registry, run_config: RunConfig, run_dir: Path, *, resume: bool,
              progress: bool, log: Callable[[str], None] | None,
              numbered: bool = False) -> TrainingResult:
    """Train (or resume) the run in ``run_dir``; progress lines go to ``log`` or stderr."""
    from zoo.training.loop import train_run as train  # torch: only once training starts

    return train(registry, run_config, run_dir, resume=resume, numbered=numbered,
                 progress=progress, log=log or log_to_stderr)


def load_run(directory: Path, registry: Registry, device: str) -> LoadedRun:
    """The run's model on ``device`` (``auto`` picks one), tokenizer and config."""
    # torch: a model is being loaded (importing zoo.api never imports torch)
    from zoo.models.devices import resolve_device
    from zoo.models.loading import load_run as load

    return load(registry, directory, device=str(resolve_device(device)))


class Run(Sampler):
    """A trained run: its model, tokenizer and config, and what can be done with it.

    ``model`` (a ``torch.nn.Module`` in eval mode), ``tokenizer``, ``config``
    (the four sections) and ``step`` are the pieces; :attr:`metrics` reads
    ``metrics.jsonl``; :attr:`training` summarizes how it trained. The run's
    files are read on first use (``zoo.load`` reads them at once, to report a
    damaged run where it is opened).
    """

    _title = "zoo run"

    def __init__(self, directory: Path, registry: Registry, *, device: str = "cpu",
                 loaded: LoadedRun | None = None,
                 training: TrainingResult | None = None,
                 pretrained: PretrainedModel | None = None) -> None:
        self.directory = Path(directory)
        #: The trained model this run is, when loaded by its name (read-only); else None.
        self.pretrained = pretrained
        self._registry = registry
        self._device = device
        self._loaded_run = loaded
        self._training = training

    @property
    def _loaded(self) -> LoadedRun:
        if self._loaded_run is None:
            self._loaded_run = load_run(self.directory, self._registry, self._device)
        return self._loaded_run

    @property
    def training(self) -> TrainingResult | None:
        """How the run trained: steps, seconds, tokens/s, parameters and the last evaluation.

        After ``zoo.train`` or :meth:`resume`, what that session of training
        reported; for a run only loaded, the same figures read from its records
        (``seconds`` then counts every session). None if it has no evaluation yet.

        >>> zoo.load(run.directory).training.steps == run.step
        True
        """
        if self._training is None:
            from zoo.training.loop import TrainingResult  # torch: training's module

            self._training = TrainingResult.from_records(self.directory, self.metrics,
                                                         self.parameters)
        return self._training

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
    def vocab_size(self) -> int:
        """The size of the model's vocabulary (its tokenizer's)."""
        return int(self._loaded.vocab_size)

    @property
    def architecture(self) -> str:
        return str(self.config.model.name)

    @property
    def samples(self) -> list[dict[str, Any]]:
        """The samples made while training (``train.sample_every``), in step order:
        ``{"step", "prompt", "text", ...}`` each (``zoo show RUN --samples``).

        >>> run.samples
        []
        """
        return [m for m in self.metrics if m.get("split") == "sample"]

    @property
    def card(self) -> str | None:
        """The run's model card, ``MODEL.md`` (every pretrained model has one), or None."""
        path = self.directory / CARD_FILE
        return read_text_file(path) if path.is_file() else None

    def summary(self) -> list[tuple[str, str]]:
        """What ``zoo show RUN`` prints: (label, value) rows about the run."""
        return self._summary()

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """Every record of ``metrics.jsonl``: ``{"step", "split": "train"|"val", "loss", ...}``.

        >>> [m["step"] for m in run.metrics if m["split"] == "val"]
        [4, 8]
        """
        return read_metrics(self.directory)

    @property
    def parameters(self) -> int:
        """Trainable parameters, each shared tensor counted once."""
        return count_parameters(self.model)

    def _dataset_choice(self) -> ComponentChoice:
        return self.config.dataset

    def _generate(self) -> Generate:
        from zoo.sampling.torch_sampler import generate  # torch

        def run(**options: Any) -> list[str]:
            return generate(self.model, self.tokenizer, **options)

        return run

    def _score(self, documents: list[str]) -> Scores:
        from zoo.analysis.model_scoring import model_reader  # torch

        # chunks of the training block size: the transformer attends within them
        reader = model_reader(self.model, self.config.train.block_size, self.vocab_size)
        return score_documents(self.tokenizer, documents, reader)

    def _feed(self) -> tuple[Feed, Any]:
        from zoo.sampling.torch_sampler import ModelFeed  # torch

        return ModelFeed(self.model), self.tokenizer

    def _views(self, text: str) -> Inspection | None:
        from zoo.analysis.inspection import inspect_text  # torch

        if getattr(self.model, "inspect", None) is None:
            return None  # the surprisal view alone
        return inspect_text(self.model, self.tokenizer, text, self.architecture)

    def evaluate(self, split: str = "val", batch_size: int = 16, *, block_size: int | None = None,
                 progress: bool = True) -> dict[str, Any]:
        """Loss, perplexity, bits per character and byte, accuracy on every token of ``split``.

        The same numbers as ``zoo eval RUN --json``: the split is cut into windows of
        ``block_size`` tokens (default: the training block size), each scored from a fresh
        state, so a loss compares only with one scored in windows of the same length. A
        progress bar shows on a terminal or in Jupyter while it works.

        >>> scores = run.evaluate()
        >>> round(scores["perplexity"], 6) == round(math.exp(scores["loss"]), 6)
        True
        """
        from zoo.training.evaluation import evaluate_run  # torch

        if batch_size < 1:
            raise ZooError(f"batch_size must be at least 1, got {batch_size}")
        if block_size is not None and block_size < 1:
            raise ZooError(f"block_size must be at least 1, got {block_size}")
        result = evaluate_run(self._registry, self._loaded, split, batch_size, progress,
                              block_size)
        result.update(run=str(self.directory), architecture=self.architecture, step=self.step,
                      parameters=self.parameters)
        return result

    def plot(self) -> Figure:
        """The training and validation loss curves, by step and by wall time.

        >>> run.plot().savefig(tmp / "curves.png")
        """
        from zoo.analysis.plots import loss_curves  # matplotlib: only when a plot is drawn

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
        choice = choose_component(self._registry, "exporter", exporter, options, section="export")
        out_dir = plan_new_directory(Path(out) if out else self._export_home() / choice.name,
                                     "export directory")
        build_component(self._registry, "exporter", choice).export(
            self._loaded, out_dir, log=log or log_to_stderr)
        return Export(out_dir, self._registry)

    @property
    def shown(self) -> str:
        """How tables and messages name the run: a pretrained model's name, else its path."""
        return self.pretrained.name if self.pretrained else str(self.directory)

    def _export_home(self) -> Path:
        """Where exports go by default: into the run, or for a pretrained model (whose
        installed directory is never written) ``exports/ARCH-DATASET`` under the current one."""
        if self.pretrained is None:
            return self.directory
        return Path("exports") / self.pretrained.name.replace("/", "-")

    def resume(self, steps: int | None = None, *, device: str | None = None,
               threads: int | None = None,
               architecture: str | None = None, progress: bool = True,
               log: Callable[[str], None] | None = None) -> Run:
        """Continue training from the last checkpoint, up to ``steps`` in all (``--resume``).

        Only ``steps``, ``device`` and ``threads`` may change; ``architecture``, if given,
        must be the run's own (the CLI passes ``zoo train ARCH --resume``'s).

        >>> run.resume(steps=12, progress=False, log=lambda line: None).step
        12
        """
        from zoo.training.resume import resumed_run_config  # torch

        overrides = {key: value for key, value in
                     [("train.steps", steps), ("train.device", device),
                      ("train.threads", threads)] if value is not None}
        run_config = resumed_run_config(self._registry, self.directory, overrides,
                                        architecture=architecture)
        self._training = train_run(self._registry, run_config, self.directory, resume=True,
                                   progress=progress, log=log)
        self._loaded_run = None  # the new checkpoint is read on next use
        return self

    def _summary(self) -> list[tuple[str, str]]:
        last = [m for m in self.metrics if m.get("split") == "val"]
        rows = [("pretrained", f"{self.pretrained.name} ({self.pretrained.provider.distribution} "
                               f"{self.pretrained.provider.version}), read-only")
                ] if self.pretrained else []
        rows += [("architecture", self.architecture), ("parameters", f"{self.parameters:,}"),
                ("tokenizer", f"{self.config.tokenizer.name} (vocab {self.vocab_size})"),
                ("dataset", self.config.dataset.name),
                ("step", f"{self.step} of {self.config.train.length()}")]
        if last:
            rows.append(("val loss", f"{last[-1]['loss']:.4f} nats/token, "
                                     f"{last[-1]['bits_per_char']:.3f} bits/char"))
        return rows

    def __repr__(self) -> str:  # architecture, step and val loss: one line
        summary = self._summary()[1 if self.pretrained else 0:]
        details = ", ".join(f"{k}={v}" for k, v in summary[:1] + summary[4:])
        return f"<zoo.Run {self.shown!r}: {details}>"
