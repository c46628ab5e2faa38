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
import json
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.onnx"
TOKENIZER_DIR = "tokenizer"
PROVIDERS_KEY = "providers"


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
    manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise ZooError(f"{str(export_dir)!r} has export format {manifest['format_version']}, "
                       f"newer than this zoo reads ({FORMAT_VERSION}); upgrade zoo-lm")
    if verify:
        model = inside_export(export_dir, manifest.get("model_file"), "the model file")
        digest = hashlib.sha256(model.read_bytes()).hexdigest() if model.exists() else "missing"
        if digest != manifest["model_sha256"]:
            raise ZooError(f"{model} does not match the sha256 in {MANIFEST_FILE}; re-export it")
    return manifest


def recorded_provider(manifest: dict[str, Any], kind: str) -> Any:
    """The provider record the manifest keeps for ``kind``; None for exports made before."""
    providers = manifest.get(PROVIDERS_KEY)
    return providers.get(kind) if isinstance(providers, dict) else None
