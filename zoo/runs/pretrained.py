"""Trained models by name: where a name such as ``gru-tied/tinyshakespeare`` leads, whether its
files are intact, and what ``zoo list --kind pretrained`` says of it.

Every command and call that takes a run directory takes a registered
pretrained name too (:func:`locate_run`). A path that exists on disk wins over
a name, so ``./gru-tied/tinyshakespeare``, if you made such a folder, is yours.
A pretrained model's directory sits inside an installed package: nothing is
ever written into it, and each load first checks every file's sha256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import safe_open

from zoo.errors import ZooError
from zoo.files.reading import reading
from zoo.registry.components import PretrainedModel
from zoo.registry.hookspecs import RegisterPretrained
from zoo.registry.host import PRETRAINED_NAME, Registry
from zoo.runs.run_directory import read_config, read_metrics

#: Bytes read at a time while hashing a file.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RunLocation:
    """A RUN argument resolved: the run directory, and the trained model it is, if any."""

    directory: Path
    pretrained: PretrainedModel | None = None

    @property
    def shown(self) -> str:
        """How messages and records name it: the pretrained name, or the path."""
        return self.pretrained.name if self.pretrained else str(self.directory)


def locate_run(registry: Registry, source: str | Path) -> RunLocation:
    """Where the run ``source`` names is: an existing path, else a registered pretrained name.

    A pretrained model's files are checked against their sha256 here. A name
    of the pretrained shape (``ARCH/DATASET``) that is neither is an error
    listing the installed models; any other missing path is left for the
    caller's own "does not exist" message.
    """
    path = Path(source)
    if path.exists():
        return RunLocation(path)
    name = str(source)
    if name in registry.pretrained or PRETRAINED_NAME.match(name):
        model = registry.get_pretrained(name)
        verify(model)
        return RunLocation(model.directory, model)
    return RunLocation(path)


def file_sha256(path: Path) -> str:
    """The hex sha256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(model: PretrainedModel) -> None:
    """Raise a ZooError naming the first file of ``model`` that is missing or was changed."""
    reinstall = (f"reinstall it: pip install --force-reinstall "
                 f"'{model.provider.distribution}'")
    for relative, expected in sorted(model.sha256.items()):
        path = model.directory / relative
        if not path.is_file():
            raise ZooError(f"pretrained model {model.name!r}: {str(path)!r} is missing; "
                           f"{reinstall}")
        with reading(path, f"pretrained model {model.name!r}", reinstall):
            actual = file_sha256(path)
        if actual != expected:
            raise ZooError(f"pretrained model {model.name!r}: {str(path)!r} does not match the "
                           f"sha256 {model.provider.distribution} recorded (it was changed or "
                           f"damaged); {reinstall}")


def installed_model_at(registry: Registry, directory: Path) -> PretrainedModel | None:
    """The registered pretrained model whose directory ``directory`` is, if any."""
    where = Path(directory).resolve()
    return next((m for m in registry.pretrained.values() if m.directory.resolve() == where),
                None)


def read_only_error(model: PretrainedModel) -> ZooError:
    """The refusal to train a pretrained model in place, with the way out."""
    architecture = model.name.split("/")[0]
    return ZooError(f"pretrained model {model.name!r} is read-only (it is installed by "
                    f"{model.provider.distribution}); to train it further start a new run "
                    f"from it: zoo train {architecture} --init-from {model.name}")


def stored_parameters(weights: Path) -> int:
    """How many numbers ``model.safetensors`` holds (a tied weight is stored once)."""
    with safe_open(str(weights), framework="numpy") as handle:
        total = 0
        for key in handle.keys():  # noqa: SIM118 (safe_open is not a mapping)
            count = 1
            for size in handle.get_slice(key).get_shape():
                count *= size
            total += count
    return total


def describe(model: PretrainedModel) -> dict[str, Any]:
    """What ``zoo list --kind pretrained`` shows of a model, read from its files (no hashing):
    name, architecture, parameters, dataset, tokenizer, step, val loss, bits/char, size."""
    config = read_config(model.directory)
    evaluations = [r for r in read_metrics(model.directory) if r.get("split") == "val"]
    last = evaluations[-1] if evaluations else {}
    with reading(model.directory / "model.safetensors", f"pretrained model {model.name!r}",
                 "reinstall it"):
        parameters = stored_parameters(model.directory / "model.safetensors")
    return {
        "name": model.name,
        "architecture": config["model"]["name"],
        "parameters": parameters,
        "dataset": config["dataset"].get("name"),
        "tokenizer": config["tokenizer"].get("name"),
        "step": last.get("step"),
        "val_loss": last.get("loss"),
        "bits_per_char": last.get("bits_per_char"),
        "size_bytes": sum((model.directory / f).stat().st_size for f in model.sha256),
        "summary": model.summary,
        "directory": str(model.directory),
        "distribution": model.provider.distribution,
        "version": model.provider.version,
        "plugin": model.provider.plugin,
    }


def index_entry(directory: Path, summary: str) -> dict[str, Any]:
    """The ``{"summary", "sha256"}`` a pretrained package's index records for one model
    directory: every file's digest, by its path relative to the directory."""
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    return {"summary": summary,
            "sha256": {p.relative_to(directory).as_posix(): file_sha256(p) for p in files}}


def register_index(register: RegisterPretrained, index_file: str | Path) -> None:
    """Register every model a pretrained package's ``models.json`` lists (name -> ``{"summary",
    "sha256"}``); the model ``NAME`` is the directory ``models/NAME`` beside the index.

    What a pretrained plugin's hook calls: ``register_index(register,
    Path(__file__).parent / "models.json")``.
    """
    index_file = Path(index_file)
    index: dict[str, dict[str, Any]] = json.loads(index_file.read_text("utf-8"))
    for name, entry in index.items():
        register(name, summary=entry["summary"], directory=index_file.parent / "models" / name,
                 sha256=entry["sha256"])
