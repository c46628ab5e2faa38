"""Entry point ``builtin-exporters``: registers the ONNX exporter."""

from __future__ import annotations

from typing import Any

from zoo import hookimpl
from zoo_exports.onnx_exporter import OnnxExportConfig


@hookimpl
def zoo_register_exporters(register: Any) -> None:
    register(
        "onnx",
        summary="one-token step graph for onnxruntime, with tokenizer and manifest; parity-checked",
        config=OnnxExportConfig,
        factory="zoo_exports.onnx_exporter:OnnxExporter",
    )
