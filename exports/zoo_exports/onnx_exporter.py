"""The ``onnx`` exporter component: what ``zoo export --onnx`` calls, and what ``zoo sample``,
``zoo score``, ``zoo chat`` and ``zoo inspect`` call for an export.

Importing this module imports neither torch nor onnxruntime; ``export``
imports torch; ``generate``, ``score`` and ``feed`` only onnxruntime and numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from zoo.plugin import require

DEFAULT_OPSET = 17


@dataclass
class OnnxExportConfig:
    """Options of the ONNX exporter (``--set export.KEY=VALUE``)."""

    opset: int = DEFAULT_OPSET  # ONNX opset of the exported graph
    quantize: Literal["none", "int8"] = "none"  # int8: onnxruntime dynamic weight quantization
    parity_steps: int = 256  # tokens fed to PyTorch and onnxruntime side by side at each check
    tolerance: float = 1e-4  # largest allowed |logits difference| of the float export

    def __post_init__(self) -> None:
        if self.opset != DEFAULT_OPSET:  # the default is known good; asking torch imports it
            low, high = supported_opsets()
            require(self, "opset", at_least=low, at_most=high)
        require(self, "parity_steps", at_least=1)
        require(self, "tolerance")  # finite; a negative one makes every parity check fail


def supported_opsets() -> tuple[int, int]:
    """The opsets this torch's TorchScript exporter writes and the installed onnx knows."""
    import onnx.defs
    from torch.onnx import _constants  # torch publishes the range nowhere else

    return (_constants.ONNX_MIN_OPSET,
            min(_constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET, onnx.defs.onnx_opset_version()))


class OnnxExporter:
    """Exports the one-token step of any architecture; samples from such an export."""

    def __init__(self, config: OnnxExportConfig | None = None) -> None:
        self.config = config or OnnxExportConfig()

    def export(self, loaded: Any, out_dir: Path, log: Callable[[str], None] = print
               ) -> dict[str, Any]:
        return self.export_step(loaded, out_dir, log)

    def export_step(self, loaded: Any, out_dir: Path, log: Callable[[str], None],
                    finish: Callable[[Path, dict[str, Any]], None] | None = None
                    ) -> dict[str, Any]:
        """Write the ONNX export with this config; ``finish`` adds to it (see export_onnx)."""
        from zoo_exports.onnx_export import export_onnx

        config = self.config
        return export_onnx(
            loaded, Path(out_dir), opset=config.opset,
            quantize=None if config.quantize == "none" else config.quantize,
            parity_steps=config.parity_steps, tolerance=config.tolerance, log=log,
            finish=finish,
        )

    def generate(self, registry: Any, export_dir: Path, **options: Any) -> list[str]:
        from zoo_exports.onnx_sampler import generate

        return generate(registry, Path(export_dir), **options)

    def score(self, registry: Any, export_dir: Path, documents: Sequence[str]) -> Any:
        """Score ``documents`` under the export (``zoo score EXPORT``): a ``Scores``."""
        from zoo_exports.onnx_sampler import score

        return score(registry, Path(export_dir), documents)

    def feed(self, registry: Any, export_dir: Path
             ) -> tuple[Callable[[Sequence[int]], Any], Any]:
        """A feed that steps the export with its state carried, and the tokenizer
        (``zoo chat EXPORT``, ``zoo sample -i``)."""
        from zoo_exports.onnx_sampler import feed

        return feed(registry, Path(export_dir))
