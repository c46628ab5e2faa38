"""Entry point ``builtin-exporters``: registers the ONNX exporter."""

from __future__ import annotations

from zoo import Register, hookimpl
from zoo_exports.onnx_exporter import OnnxExportConfig


@hookimpl
def zoo_register_exporters(register: Register) -> None:
    register(
        "onnx",
        summary="one-token step graph for onnxruntime, with tokenizer and manifest; parity-checked",
        config=OnnxExportConfig,
        factory="zoo_exports.onnx_exporter:OnnxExporter",
    )
