"""Entry point ``builtin-exporters``: registers the ONNX and web exporters."""

from __future__ import annotations

from zoo import Register, hookimpl
from zoo_exports.onnx_exporter import OnnxExportConfig
from zoo_exports.web_exporter import WebExportConfig


@hookimpl
def zoo_register_exporters(register: Register) -> None:
    register(
        "onnx",
        summary="one-token step graph for onnxruntime, with tokenizer and manifest; parity-checked",
        config=OnnxExportConfig,
        factory="zoo_exports.onnx_exporter:OnnxExporter",
    )
    register(
        "web",
        summary="a static page that samples the ONNX step in the browser with onnxruntime-web",
        config=WebExportConfig,
        factory="zoo_exports.web_exporter:WebExporter",
    )
