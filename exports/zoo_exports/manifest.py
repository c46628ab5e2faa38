"""The export directory's layout and ``manifest.json``, readable without torch.

    exports/NAME/
      model.onnx      the one-token step graph
      tokenizer/      what the run's tokenizer saved
      manifest.json   tensors, state wiring, vocabulary, sampling defaults, checksums,
                      and "providers": the plugin, distribution and version that
                      provided the architecture, the tokenizer and the exporter
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.loading import damaged, read_json, require_keys

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.onnx"
TOKENIZER_DIR = "tokenizer"
PROVIDERS_KEY = "providers"
RE_EXPORT = "re-export the run with `zoo export RUN --onnx`"


def inside_export(export_dir: Path, relative: Any, what: str) -> Path:
    """``export_dir / relative``, refused unless it stays inside the export directory.

    A manifest comes with the export, from whoever sent it, and its sha256 sits
    in the same file, so it proves nothing: a path that is absolute, climbs
    out with ``..`` or leaves through a symlink is refused, never read.
    """
    root = Path(export_dir).resolve()
    if not isinstance(relative, str) or not relative:
        raise ZooError(f"{MANIFEST_FILE} in {str(export_dir)!r} gives no path for {what}; "
                       "re-export the run")
    target = (root / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(root):
        raise ZooError(f"{MANIFEST_FILE} in {str(export_dir)!r} points {what} outside the "
                       f"export ({relative!r}); refused: only files inside an export are read")
    return target


def read_manifest(export_dir: Path, verify: bool = True) -> dict[str, Any]:
    """The manifest of an export directory, checked against its model file."""
    export_dir = Path(export_dir)
    path = export_dir / MANIFEST_FILE
    if not export_dir.is_dir():
        raise ZooError(f"export directory {str(export_dir)!r} does not exist; "
                       "make one with `zoo export RUN --onnx`")
    if not path.exists():
        raise ZooError(f"{str(export_dir)!r} is not a zoo export: it has no {MANIFEST_FILE}")
    manifest: dict[str, Any] = read_json(path, "the export manifest", RE_EXPORT)
    check_manifest(manifest, path)
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise ZooError(f"{str(export_dir)!r} has export format {manifest['format_version']}, "
                       f"newer than this zoo reads ({FORMAT_VERSION}); upgrade zoo-lm")
    if verify:
        model = inside_export(export_dir, manifest.get("model_file"), "the model file")
        digest = hashlib.sha256(model.read_bytes()).hexdigest() if model.exists() else "missing"
        if digest != manifest["model_sha256"]:
            raise ZooError(f"{model} does not match the sha256 in {MANIFEST_FILE}; re-export it")
    return manifest


def check_manifest(manifest: dict[str, Any], path: Path) -> None:
    """Check the manifest has every entry the sampler reads, each of the right type.

    The wiring of each state tensor is checked against the inputs it names;
    the shapes themselves are checked against the model by the sampler.
    """
    def entries(value: Any, keys: dict[str, Any], what: str) -> None:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise damaged(path, "the export manifest", RE_EXPORT, f"'{what}' is not a list")
        for entry in value:
            require_keys(entry, keys, path, "the export manifest", RE_EXPORT)

    require_keys(manifest, {"format_version": int, "model_file": str, "model_sha256": str,
                            "vocab_size": int, "inputs": list, "state": list,
                            "tokenizer": dict, "sampling": dict},
                 path, "the export manifest", RE_EXPORT)
    entries(manifest["inputs"], {"name": str, "shape": list, "dtype": str}, "inputs")
    entries(manifest["state"], {"input": str, "output": str, "initial": str}, "state")
    require_keys(manifest["tokenizer"], {"name": str, "config": dict, "directory": str},
                 path, "the export manifest", RE_EXPORT)
    require_keys(manifest["sampling"], {"start_text": str}, path, "the export manifest",
                 RE_EXPORT)
    names = {entry["name"] for entry in manifest["inputs"]}
    for wire in manifest["state"]:
        axis = wire.get("batch_axis")
        if wire["input"] not in names or not (axis is None or type(axis) is int):
            raise damaged(path, "the export manifest", RE_EXPORT,
                          f"state {wire['input']!r} does not match its inputs")
    for entry in manifest["inputs"]:
        if not all(size == "batch" or (type(size) is int and size >= 0)
                   for size in entry["shape"]):
            raise damaged(path, "the export manifest", RE_EXPORT,
                          f"input {entry['name']!r} has shape {entry['shape']!r}")


def recorded_provider(manifest: dict[str, Any], kind: str) -> Any:
    """The provider record the manifest keeps for ``kind``; None for exports made before."""
    providers = manifest.get(PROVIDERS_KEY)
    return providers.get(kind) if isinstance(providers, dict) else None
