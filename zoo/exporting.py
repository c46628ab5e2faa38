"""Which exporter wrote an export directory: the one thing the core reads of its manifest.

Everything else in ``manifest.json`` belongs to the exporter, which reads it
itself when it samples (``generate``); the core only needs the exporter's
name, and the provider recorded with it to name the package if it is gone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.registry import Registry

MANIFEST_FILE = "manifest.json"


def read_export_manifest(registry: Registry, export_dir: Path) -> tuple[dict[str, Any], Any]:
    """The export's manifest and an instance of the exporter that wrote it (default config)."""
    path = Path(export_dir) / MANIFEST_FILE
    if not path.is_file():
        what = "does not exist" if not Path(export_dir).exists() else f"has no {MANIFEST_FILE}"
        raise ZooError(f"export directory {str(export_dir)!r} {what}; "
                       "make one with `zoo export RUN --onnx`")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ZooError(f"{path} is not valid JSON ({error}); re-export the run") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("exporter"), str):
        raise ZooError(f"{path} names no exporter; re-export the run")
    recorded = (manifest.get("providers") or {}).get("exporter")
    component = registry.get_recorded("exporter", manifest["exporter"], recorded, "this export")
    return manifest, component.load_factory()(component.default_config())
