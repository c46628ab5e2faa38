"""An export received from someone else: its manifest can name only files inside the export."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from click.testing import CliRunner

from cli_errors import one_line_error
from zoo.cli import cli


def _tamper(export, tmp_path, edit):
    """A copy of ``export`` whose manifest ``edit`` changed, with its sha256 kept consistent."""
    copy = tmp_path / "received"
    shutil.copytree(export, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    edit(manifest, copy)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


SECRET = "outside the export: must never be read"


@pytest.mark.parametrize("edit", [
    lambda m, d: m.update(model_file=str(d.parent / "secret.onnx")),
    lambda m, d: m.update(model_file="../secret.onnx"),
    lambda m, d: m["tokenizer"].update(directory="../secret-tokenizer"),
    lambda m, d: m["tokenizer"].update(directory=str(d.parent / "secret-tokenizer")),
    lambda m, d: m["state"][0].update(initial="../secret.npy"),
    lambda m, d: (d / "link.onnx").symlink_to(d.parent / "secret.onnx")
    or m.update(model_file="link.onnx"),
    lambda m, d: (d / "link-tokenizer").symlink_to(d.parent / "secret-tokenizer")
    or m["tokenizer"].update(directory="link-tokenizer"),
], ids=["absolute model", "model with ..", "tokenizer with ..", "absolute tokenizer",
        "initial state with ..", "model through a symlink", "tokenizer through a symlink"])
def test_a_path_out_of_the_export_is_refused(registry, export_small, tmp_path, edit):
    _, export, _ = export_small("gru-tied")
    for name in ("secret.onnx", "secret.npy"):
        (tmp_path / name).write_text(SECRET)
    (tmp_path / "secret-tokenizer").mkdir()
    received = _tamper(export, tmp_path, edit)
    model_file = json.loads((received / "manifest.json").read_text())["model_file"]
    if "secret" in model_file or "link" in model_file:
        manifest = json.loads((received / "manifest.json").read_text())  # sha256 "fixed up"
        manifest["model_sha256"] = hashlib.sha256(SECRET.encode()).hexdigest()
        (received / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(cli, ["sample", "--onnx", str(received), "--max-new-tokens", "3"],
                                obj=registry)
    line = one_line_error(result)
    assert "outside the export" in line and "refused" in line
