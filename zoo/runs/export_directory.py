"""Which exporter wrote an export directory: the one thing the core reads of its manifest.

Everything else in ``manifest.json`` belongs to the exporter, which reads it
itself when it samples (``generate``); the core only needs the exporter's
name, and the provider recorded with it to name the package if it is gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.files.reading import read_json, require_keys
from zoo.registry.host import Registry

MANIFEST_FILE = "manifest.json"


def read_export_manifest(registry: Registry, export_dir: Path) -> tuple[dict[str, Any], Any]:
    """The export's manifest and an instance of the exporter that wrote it (default config)."""
    path = Path(export_dir) / MANIFEST_FILE
    if not path.is_file():
        what = "does not exist" if not Path(export_dir).exists() else f"has no {MANIFEST_FILE}"
        raise ZooError(f"export directory {str(export_dir)!r} {what}; "
                       "make one with `zoo export RUN --onnx`")
    recovery = "re-export the run with `zoo export RUN`"
    manifest = read_json(path, "the export manifest", recovery)
    require_keys(manifest, {"exporter": str}, path, "the export manifest", recovery)
    recorded = (manifest.get("providers") or {}).get("exporter")
    component = registry.get_recorded("exporter", manifest["exporter"], recorded, "this export")
    return manifest, component.load_factory()(component.default_config())
