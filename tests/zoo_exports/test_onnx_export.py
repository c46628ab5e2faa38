"""`zoo export --onnx`: every registered architecture exports, passes its checks, and samples."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import numpy_helper

from cli_errors import one_line_error
from docs_pages import page
from zoo.cli import cli
from zoo_exports.manifest import read_manifest


def test_every_architecture_exports_and_passes_its_checks(export_small, architecture_name):
    run, out, log = export_small(architecture_name)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "model.onnx", "tokenizer"]
    # the parity rollout is printed for batch 1 and batch 3, 256 steps each, within 1e-4
    for batch in (1, 3):
        printed = re.search(rf"parity, 256 steps at batch {batch}: max \|logits difference\| "
                            r"(\S+)", log)
        assert printed, log
        assert float(printed.group(1)) <= 1e-4
    onnx.checker.check_model(onnx.load(str(out / "model.onnx")), full_check=True)
    manifest = read_manifest(out)  # verifies the sha256 of model.onnx
    assert manifest["architecture"] == architecture_name
    assert manifest["parity"]["max_abs_diff_batch3"] <= 1e-4


def test_greedy_text_is_the_same_from_onnxruntime_and_pytorch(registry, export_small,
                                                              architecture_name):
    from zoo.cli import cli

    run, out, _ = export_small(architecture_name)
    options = ["--prompt", "ROMEO:", "--temperature", "0", "--max-new-tokens", "60"]
    from_torch = CliRunner().invoke(cli, ["sample", str(run), *options], obj=registry)
    from_onnx = CliRunner().invoke(cli, ["sample", "--onnx", str(out), *options], obj=registry)
    assert from_torch.exit_code == from_onnx.exit_code == 0, from_onnx.output
    assert from_onnx.output.startswith("ROMEO:") and len(from_onnx.output) > 60
    assert from_onnx.output == from_torch.output


def test_batch_is_a_dynamic_axis_of_every_input_and_output(export_small):
    import onnxruntime

    _, out, _ = export_small("lstm")
    graph = onnx.load(str(out / "model.onnx")).graph
    for value in [*graph.input, *graph.output]:
        dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
        assert "batch" in dims, (value.name, dims)
    # and a batch the export never saw runs: 5 rows, h and c of shape (layers, 5, hidden)
    session = onnxruntime.InferenceSession(str(out / "model.onnx"))
    feed = {"input_ids": np.zeros((5, 1), np.int64),
            "h": np.zeros((2, 5, 24), np.float32), "c": np.zeros((2, 5, 24), np.float32)}
    logits, h, c = session.run(None, feed)
    assert logits.shape[0] == 5 and h.shape == c.shape == (2, 5, 24)


def test_manifest_describes_how_to_drive_the_step(export_small, registry):
    import zoo

    _, out, _ = export_small("transformer")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["zoo_version"] == zoo.__version__
    assert manifest["architecture"] == "transformer" and manifest["opset"] == 17
    vocab = manifest["vocab_size"]
    assert manifest["inputs"][0] == {"name": "input_ids", "role": "token", "dtype": "int64",
                                     "shape": ["batch", 1]}
    assert manifest["outputs"][0] == {"name": "logits", "role": "logits", "dtype": "float32",
                                      "shape": ["batch", vocab]}
    assert {t["role"] for t in manifest["inputs"][1:] + manifest["outputs"][1:]} == {"state"}
    # each layer's keys and values, then the position: outputs wired to the next step's inputs
    assert [(w["input"], w["output"]) for w in manifest["state"]] == [
        ("keys0", "keys0_out"), ("values0", "values0_out"), ("keys1", "keys1_out"),
        ("values1", "values1_out"), ("position", "position_out")]
    by_name = {t["name"]: t for t in manifest["inputs"] + manifest["outputs"]}
    assert by_name["keys1"]["shape"] == ["batch", 2, 16, 16] == by_name["keys1_out"]["shape"]
    assert by_name["position"] == {"name": "position", "role": "state", "dtype": "int64",
                                   "shape": ["batch"]}
    assert all(w["initial"] == "zeros" for w in manifest["state"])
    # each state entry states its own dtype, shape and batch axis
    assert manifest["state"][-1] == {"input": "position", "output": "position_out",
                                     "dtype": "int64", "shape": ["batch"], "batch_axis": 0,
                                     "initial": "zeros"}
    assert manifest["max_steps"] is None  # the sliding window steps past block_size
    assert manifest["tokenizer"]["portable"]["scheme"] == "char"
    assert manifest["sampling"]["temperature"] == 0.8
    assert manifest["special_tokens"] == {"<unk>": 0, "<|endoftext|>": 1}
    assert manifest["sampling"]["end_of_text"] == 1  # where a sample starts and ends
    # the graph's own names and shapes are the manifest's
    graph = onnx.load(str(out / "model.onnx")).graph
    assert [i.name for i in graph.input] == [t["name"] for t in manifest["inputs"]]
    assert [o.name for o in graph.output] == [t["name"] for t in manifest["outputs"]]


@pytest.mark.parametrize("name", ["gru-tied", "transformer"])
def test_tied_weights_are_stored_once(export_small, name):
    from safetensors.numpy import load_file

    run, out, _ = export_small(name)
    weights = load_file(str(run / "model.safetensors"))
    embedding = next(v for k, v in weights.items() if k.endswith("embedding.weight")
                     or k.endswith("token_embedding.weight"))
    graph = onnx.load(str(out / "model.onnx")).graph
    stored = [numpy_helper.to_array(t) for t in graph.initializer]
    copies = [a for a in stored if a.shape in (embedding.shape, embedding.T.shape)
              and (np.array_equal(a, embedding) or np.array_equal(a, embedding.T))]
    assert len(copies) == 1


def test_gru_is_exported_with_pytorch_reset_semantics(export_small):
    """ONNX GRU's linear_before_reset=0 is not what PyTorch computes; ours must say 1."""
    _, out, _ = export_small("gru-tied")
    grus = [n for n in onnx.load(str(out / "model.onnx")).graph.node if n.op_type == "GRU"]
    assert grus, "the GRU layers should export as ONNX GRU nodes"
    for node in grus:
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attributes["linear_before_reset"] == 1


def test_onnx_sampling_never_imports_torch(export_small):
    _, out, _ = export_small("gru")
    script = (
        "import sys\n"
        "from zoo.cli import main\n"
        "try:\n"
        f"    main(['sample', '--onnx', {str(out)!r}, '--max-new-tokens', '20', '--seed', '1'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        "print('TORCH LOADED' if 'torch' in sys.modules else 'NO TORCH')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip().endswith("NO TORCH"), result.stdout + result.stderr


def test_num_samples_are_sampled_as_one_batch(registry, export_small, monkeypatch):
    from zoo_exports import onnx_sampler

    _, out, _ = export_small("gru-tied")
    batch_sizes = []
    original = onnx_sampler.ChoosingLoop._call

    def spy(self, token_ids, steps, draw):
        batch_sizes.append(len(token_ids))
        return original(self, token_ids, steps, draw)

    monkeypatch.setattr(onnx_sampler.ChoosingLoop, "_call", spy)
    options = ["sample", "--onnx", str(out), "--num-samples", "4", "--seed", "3",
               "--max-new-tokens", "30"]
    first = CliRunner().invoke(cli, options, obj=registry)
    second = CliRunner().invoke(cli, options, obj=registry)
    assert first.exit_code == 0, first.output
    assert set(batch_sizes) == {4}
    assert first.output.count("--- sample ") == 4
    assert first.output == second.output  # a fixed seed reproduces the samples


def test_int8_quantization_shrinks_the_file_and_still_samples(registry, train_small,
                                                              tmp_path):
    run = train_small("lstm")  # onnxruntime quantizes LSTM weights (it has no int8 GRU)
    float_dir, int8_dir = tmp_path / "float", tmp_path / "int8"
    CliRunner().invoke(cli, ["export", str(run), "--onnx", "--out", str(float_dir)], obj=registry)
    result = CliRunner().invoke(cli, ["export", str(run), "--onnx", "--quantize", "int8",
                                      "--out", str(int8_dir)], obj=registry)
    assert result.exit_code == 0, result.output
    assert "int8:" in result.output
    manifest = read_manifest(int8_dir)
    assert manifest["quantized"] == "int8"
    assert (int8_dir / "model.onnx").stat().st_size < (float_dir / "model.onnx").stat().st_size
    ops = {n.op_type for n in onnx.load(str(int8_dir / "model.onnx")).graph.node}
    assert "DynamicQuantizeLSTM" in ops and "LSTM" not in ops, ops
    sampled = CliRunner().invoke(cli, ["sample", "--onnx", str(int8_dir), "--max-new-tokens",
                                       "20"], obj=registry)
    assert sampled.exit_code == 0, sampled.output


def test_a_failed_parity_check_leaves_no_directory(registry, train_small, tmp_path):
    run = train_small("rnn")
    out = tmp_path / "export"
    result = CliRunner().invoke(cli, ["export", str(run), "--onnx", "--out", str(out),
                                      "--set", "export.tolerance=-1"], obj=registry)
    line = one_line_error(result)
    assert "the ONNX step differs from PyTorch" in line and "nothing was written" in line
    assert not out.exists()
    assert not any(tmp_path.iterdir())  # no temporary directory left behind either


def test_a_failed_torch_export_is_one_clear_line(registry, train_small, tmp_path, monkeypatch):
    import torch

    def broken_export(*args, **kwargs):
        raise RuntimeError("Unsupported operator aten::mystery\nlong details")

    monkeypatch.setattr(torch.onnx, "export", broken_export)
    out = tmp_path / "export"
    result = CliRunner().invoke(cli, ["export", str(train_small("rnn")), "--onnx", "--out",
                                      str(out)], obj=registry)
    line = one_line_error(result)
    assert "torch could not export 'rnn' to ONNX opset 17" in line and "aten::mystery" in line
    assert not out.exists() and not any(tmp_path.iterdir())


def test_an_existing_export_directory_is_never_overwritten(registry, export_small):
    run, out, _ = export_small("bigram")
    before = (out / "model.onnx").read_bytes()
    result = CliRunner().invoke(cli, ["export", str(run), "--onnx", "--out", str(out)],
                                obj=registry)
    assert "already exists" in one_line_error(result)
    assert (out / "model.onnx").read_bytes() == before


def test_the_default_export_goes_inside_the_run_and_is_never_overwritten(
        registry, train_small, tmp_path, monkeypatch):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(train_small("bigram"), run)
    monkeypatch.chdir(tmp_path)  # a source checkout would hold exports/zoo_exports here
    result = CliRunner().invoke(cli, ["export", str(run), "--onnx"], obj=registry)
    assert result.exit_code == 0, result.output
    assert f"sample it: zoo sample --onnx {run / 'onnx'}" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing beside the run
    assert read_manifest(run / "onnx")["architecture"] == "bigram"
    again = CliRunner().invoke(cli, ["export", str(run), "--onnx"], obj=registry)
    assert "already exists" in one_line_error(again)


@pytest.mark.parametrize(("argv", "message"), [
    (["export", "RUN"], "choose one exporter: --onnx, --web, or --exporter NAME"),
    (["export", "RUN", "--onnx", "--set", "export.opsett=18"], "unknown key 'export.opsett'"),
    (["export", "RUN", "--exporter", "tflite"], "no exporter 'tflite'; available: onnx, web"),
    (["sample", "--onnx", "MISSING"], "does not exist; make one with `zoo export RUN --onnx`"),
    (["sample", "RUN", "--onnx", "MISSING"],
     "give a run or an export directory, or --onnx EXPORT_DIR (not both)"),
])
def test_mistakes_get_one_clear_line(registry, train_small, tmp_path, argv, message):
    run = str(train_small("bigram"))
    argv = [run if a == "RUN" else str(tmp_path / "nope") if a == "MISSING" else a for a in argv]
    assert message in one_line_error(CliRunner().invoke(cli, argv, obj=registry))


def test_a_tampered_model_file_is_refused(registry, export_small, tmp_path):
    import shutil

    _, out, _ = export_small("bigram")
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with open(copy / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    result = CliRunner().invoke(cli, ["sample", "--onnx", str(copy)], obj=registry)
    assert "does not match the sha256 in manifest.json" in one_line_error(result)


def documented_numpy_loop(export: Path, prompt: str, greedy: bool = True) -> str:
    """The numpy loop of docs/export-format.md, with only the export, the prompt and (greedy)
    temperature 0 put in."""
    code = re.search(r"<!-- numpy-loop -->\s*```python\n(.*?)```", page("export-format.md"),
                     re.DOTALL)
    assert code, "docs/export-format.md should hold the numpy loop after a <!-- numpy-loop -->"
    source, replaced = re.subn(r"^export, prompt = .*$",
                               lambda _: f"export, prompt = {str(export)!r}, {prompt!r}",
                               code.group(1), flags=re.MULTILINE)
    assert replaced == 1
    source, replaced = re.subn(r'^temperature, end = sampling\["temperature"\]',
                               "temperature, end = 0" if greedy else r"\g<0>", source,
                               flags=re.MULTILINE)
    assert replaced == 1
    assert len(source.strip().splitlines()) <= 60  # a loop a reader takes in at once
    return source


def test_the_documented_numpy_loop_samples_at_the_manifests_temperature(export_small):
    _, out, _ = export_small("lstm")
    result = subprocess.run([sys.executable, "-c", documented_numpy_loop(out, "ROMEO:", False)],
                            capture_output=True, text=True, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    # up to 500 tokens, or fewer where the barely trained model drew end of text
    assert result.stdout.startswith("ROMEO:") and len(result.stdout) > len("ROMEO:\n")


#: (architecture or None for a gru run with that tokenizer, tokenizer, prompt, whether the
#: prompt has a character the vocabulary lacks, which zoo sample refuses).
LOOP_CASES = [
    ("transformer", "char", "ROMEO:", False),
    ("gru", "char", "ROMEO\U0001f600 \u00e9:", True),
    (None, "byte", "ROMEO\U0001f600 \u00e9:", False),
    (None, "bpe", "ROMEO\U0001f600 \u00e9:\nJULIET:", False),
    (None, "word", "First Citizen:", False),
    (None, "sentencepiece", "ROMEO\U0001f600 \u00e9:\nJULIET:", False),
]


@pytest.mark.parametrize(("architecture", "tokenizer", "prompt", "unseen"), LOOP_CASES,
                         ids=[f"{c[1]}-{c[0] or 'gru'}{'-unseen' if c[3] else ''}"
                              for c in LOOP_CASES])
def test_the_documented_numpy_loop_prints_what_zoo_sample_prints(
        registry, export_small, export_with_tokenizer, monkeypatch, architecture, tokenizer,
        prompt, unseen):
    """The documented loop, run as written without torch or zoo, gives zoo's greedy text.

    For a char prompt with a character the vocabulary lacks, which ``zoo sample``
    refuses, it gives what zoo samples once that refusal is lifted: zoo's tokenizer
    maps the character to <unk>, as the loop does.
    """
    import zoo.sampling.loop

    export = (export_small(architecture)[1] if architecture
              else export_with_tokenizer(tokenizer)[1])
    source = documented_numpy_loop(export, prompt)
    source += "\nimport sys\nassert 'torch' not in sys.modules and 'zoo' not in sys.modules\n"
    result = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                            encoding="utf-8")
    assert result.returncode == 0, result.stderr
    options = ["sample", "--onnx", str(export), "--prompt", prompt, "--temperature", "0"]
    if unseen:
        assert "cannot represent" in one_line_error(CliRunner().invoke(cli, options,
                                                                       obj=registry))
        monkeypatch.setattr(zoo.sampling.loop, "_refuse_unrepresentable", lambda *a: None)
    from_zoo = CliRunner().invoke(cli, options, obj=registry)
    assert from_zoo.exit_code == 0, from_zoo.output
    assert result.stdout.startswith(prompt) and len(result.stdout) > len(prompt) + 1
    assert result.stdout == from_zoo.output


def test_int8_says_what_stays_in_float(registry, train_small, tmp_path):
    result = CliRunner().invoke(cli, ["export", str(train_small("gru")), "--onnx", "--quantize",
                                      "int8", "--out", str(tmp_path / "int8")], obj=registry)
    assert result.exit_code == 0, result.output
    assert "left in float32: GRU (onnxruntime has no dynamic int8 kernel for it)" in result.output
    assert read_manifest(tmp_path / "int8")["parity"]["int8_left_in_float"] == ["GRU"]


def test_int8_export_prints_no_stray_log_lines(train_small, tmp_path):
    """onnxruntime's quantizer logs advice to the root logger; the user sees zoo's lines only."""
    out = tmp_path / "int8"
    result = subprocess.run(
        [sys.executable, "-m", "zoo", "export", str(train_small("lstm")), "--onnx",
         "--quantize", "int8", "--parity-steps", "16", "--out", str(out)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert [line.split(",")[0].split(":")[0] for line in result.stderr.splitlines()] == [
        "parity", "parity", "int8"]
