"""Export manifests record which distribution provided each component, and name it when missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from cli_errors import one_line_error
from zoo.cli import cli
from zoo_exports.manifest import read_manifest


def test_manifest_records_the_providers_of_architecture_tokenizer_and_exporter(registry,
                                                                                export_small):
    run, out, _ = export_small("gru-tied")
    manifest = read_manifest(out)
    assert manifest["providers"] == {
        "architecture": registry.get("architecture", "gru-tied").provider.record(),
        "tokenizer": registry.get("tokenizer", manifest["tokenizer"]["name"]).provider.record(),
        "exporter": registry.get("exporter", "onnx").provider.record(),
    }
    assert {p["distribution"] for p in manifest["providers"].values()} == {"zoo-lm"}


def _copy_export(export_dir: Path, tmp_path: Path, tokenizer: dict | None,
                 providers: dict | None) -> Path:
    """A copy of an export whose manifest names another tokenizer and other providers."""
    copy = tmp_path / "export"
    shutil.copytree(export_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    if tokenizer is not None:
        manifest["tokenizer"].update(tokenizer)
    manifest.pop("providers")
    if providers is not None:
        manifest["providers"] = providers
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def test_sampling_an_export_whose_tokenizer_is_missing_names_the_package(registry, export_small,
                                                                         tmp_path):
    _, out, _ = export_small("gru-tied")
    gone = {"plugin": "fancy", "distribution": "zoo-fancy-chars-not-installed", "version": "2.0"}
    copy = _copy_export(out, tmp_path, {"name": "fancy-chars"}, {"tokenizer": gone})
    result = CliRunner().invoke(cli, ["sample", "--onnx", str(copy)], obj=registry)
    available = ", ".join(registry.names("tokenizer"))
    assert one_line_error(result) == (
        f"error: no tokenizer 'fancy-chars'; available: {available}; this export was made with "
        "it from zoo-fancy-chars-not-installed 2.0: "
        "pip install 'zoo-fancy-chars-not-installed>=2.0'"
    )


def test_an_export_without_providers_still_samples(registry, export_small, tmp_path):
    _, out, _ = export_small("gru-tied")
    copy = _copy_export(out, tmp_path, None, None)  # as written before zoo recorded them
    result = CliRunner().invoke(cli, ["sample", "--onnx", str(copy), "--prompt", "A",
                                      "--max-new-tokens", "5", "--seed", "1"], obj=registry)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("A") and len(result.output) > 1
