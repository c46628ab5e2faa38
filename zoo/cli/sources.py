"""What a command's RUN argument names: a trained run, or an export directory.

An export directory is recognized by what it holds, ``manifest.json``
(:func:`zoo.api.export.is_export`); anything else is read as a run. So
``zoo sample``, ``zoo score``, ``zoo chat`` and ``zoo inspect`` take either, and
an export runs on its exporter's runtime (onnxruntime), without torch.
"""

from __future__ import annotations

from pathlib import Path

import click

from zoo.api import Export, Run, load, load_export
from zoo.api.export import is_export
from zoo.cli.common import registry_from
from zoo.errors import ZooError

#: The help of ``--device`` where a command takes a run or an export.
DEVICE_HELP = "auto, cpu (default), cuda or mps; a run only (an export runs on onnxruntime's CPU)."


def load_source(ctx: click.Context, path: Path, device: str | None, *,
                export: bool = False) -> Run | Export:
    """The run or the export in ``path`` (an export only, with ``export``: ``--onnx DIR``);
    ``device`` (None: the CPU) is for a run only."""
    registry = registry_from(ctx)
    if export or is_export(path):
        if device not in (None, "cpu"):
            raise ZooError(f"--device {device}: an export runs on onnxruntime's CPU provider; "
                           "drop --device, or use the run itself on that device")
        return load_export(path, registry=registry)
    return load(path, device or "cpu", registry=registry)
