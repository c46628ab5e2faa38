"""An export directory, for notebooks and scripts: its manifest, and sampling, scoring, chat
and the surprisal view with its exporter's runtime (onnxruntime for ONNX), never torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.analysis.scoring import Scores
from zoo.api.sampler import Generate, Sampler
from zoo.config.run import choose_component
from zoo.config.sections import ComponentChoice
from zoo.errors import ZooError
from zoo.registry.host import Registry
from zoo.runs.export_directory import MANIFEST_FILE, read_export_manifest
from zoo.sampling.chat import Feed


def is_export(directory: Path) -> bool:
    """Whether ``directory`` is an export directory (it holds ``manifest.json``), where a
    command takes a run or an export."""
    return (Path(directory) / MANIFEST_FILE).is_file()


class Export(Sampler):
    """An export directory and its manifest; ``sample``, ``stream``, ``score``, ``chat`` and
    ``inspect`` (the surprisal view) like a :class:`Run`."""

    _title = "zoo export"

    def __init__(self, directory: Path, registry: Registry) -> None:
        self.directory = directory
        self._registry = registry
        self.manifest, self._exporter = read_export_manifest(registry, directory)

    def _generate(self) -> Generate:
        generate = getattr(self._exporter, "generate", None)
        if generate is None:
            raise ZooError(f"the {self.manifest.get('exporter')!r} exporter cannot sample "
                           "from its exports")

        def run(**options: Any) -> list[str]:
            texts: list[str] = generate(self._registry, self.directory, **options)
            return texts

        return run

    @property
    def architecture(self) -> str:
        return str(self.manifest.get("architecture", "model"))

    def _runtime(self, method: str, what: str) -> Any:
        """The exporter's ``method``, or the error that says its exports cannot ``what``."""
        found = getattr(self._exporter, method, None)
        if found is None:
            raise ZooError(f"the {self.manifest.get('exporter')!r} exporter cannot {what} "
                           "with its exports; use the run itself")
        return found

    def _score(self, documents: list[str]) -> Scores:
        scores: Scores = self._runtime("score", "score text")(self._registry, self.directory,
                                                               documents)
        return scores

    def _feed(self) -> tuple[Feed, Any]:
        feed, tokenizer = self._runtime("feed", "chat")(self._registry, self.directory)
        return feed, tokenizer

    def _dataset_choice(self) -> ComponentChoice:
        recorded = self.manifest.get("dataset")
        if not isinstance(recorded, dict) or not isinstance(recorded.get("config"), dict):
            raise ZooError(f"the export {str(self.directory)!r} does not record its dataset "
                           "(it was made by an older zoo); export the run again")
        # a recorded config: a key it lacks takes the value the dataset had when it was made
        return choose_component(self._registry, "dataset", str(recorded.get("name")),
                                recorded["config"], section="dataset", made="this export",
                                from_record=True)

    def _summary(self) -> list[tuple[str, str]]:
        keys = ["exporter", "architecture", "trained_steps", "vocab_size", "quantized"]
        return [(key, str(self.manifest[key])) for key in keys if key in self.manifest]
