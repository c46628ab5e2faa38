"""`zoo export --web` and `zoo serve`, without a browser: the folder, its imports, its errors.

What the page does in Chromium is tested in test_web_page.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.registry.host import Registry
from zoo.runs.serving import page_url, web_server
from zoo.sampling.loop import SamplingSettings, token_chooser
from zoo_exports.onnx_sampler import OnnxStep
from zoo_exports.web_exporter import (
    ORT_RUNTIME,
    ORT_WEB_VERSION,
    ORT_WEBGPU_RUNTIME,
    TOKENIZERS_JS_VERSION,
)


def export_web(registry: Registry, run: Path, out: Path, *options: str) -> CliRunner:
    result = CliRunner().invoke(cli, ["export", str(run), "--web", "--out", str(out),
                                      "--parity-steps", "8", *options], obj=registry)
    return result


def import_map(folder: Path) -> dict[str, str]:
    html = (folder / "index.html").read_text("utf-8")
    found = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
    assert found, "the page has no import map"
    return json.loads(found[1])["imports"]


@pytest.fixture(scope="module")
def web_folder(registry: Registry, trained_run: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("web") / "page"
    result = export_web(registry, trained_run, out)
    assert result.exit_code == 0, result.output
    return out


def test_the_folder_holds_the_page_the_module_the_model_and_the_licences(web_folder: Path):
    names = {p.name for p in web_folder.iterdir()}
    assert {"index.html", "page.js", "zoo.js", "model.onnx", "manifest.json", "tokenizer",
            "LICENSES.md"} <= names
    manifest = json.loads((web_folder / "manifest.json").read_text())
    assert manifest["exporter"] == "web"
    assert manifest["providers"]["exporter"]["plugin"] == "builtin-exporters"
    assert manifest["tokenizer"]["portable"]["scheme"] == "char"
    licences = (web_folder / "LICENSES.md").read_text()
    assert "onnxruntime-web" in licences and "MIT" in licences


def test_onnxruntime_web_comes_from_the_pinned_cdn_by_default(web_folder: Path):
    dist = f"https://cdn.jsdelivr.net/npm/onnxruntime-web@{ORT_WEB_VERSION}/dist"
    assert import_map(web_folder) == {"onnxruntime-web": f"{dist}/ort.wasm.min.mjs",
                                      "onnxruntime-web/webgpu": f"{dist}/ort.min.mjs"}
    assert not (web_folder / "vendor").exists()


def fake_package(folder: Path, files: list[str]) -> Path:
    (folder / "dist").mkdir(parents=True)
    for name in files:
        (folder / "dist" / name).write_text(f"// {name}\n")
    (folder / "LICENSE").write_text("MIT License\n")
    return folder


def test_ort_dir_copies_the_bundle_and_its_runtime_and_the_import_map_points_there(
        registry: Registry, trained_run: Path, tmp_path: Path):
    needed = ["ort.wasm.min.mjs", *ORT_RUNTIME, "ort.min.mjs", *ORT_WEBGPU_RUNTIME]
    package = fake_package(tmp_path / "onnxruntime-web",
                           [*needed, "ort.all.mjs", "ort.min.mjs.map"])
    result = export_web(registry, trained_run, tmp_path / "web", "--ort-dir", str(package))
    assert result.exit_code == 0, result.output
    vendor = tmp_path / "web" / "vendor" / "onnxruntime-web"
    assert sorted(p.name for p in vendor.iterdir()) == sorted(
        [*needed, "LICENSE"])  # no other bundles, no source maps
    assert import_map(tmp_path / "web") == {
        "onnxruntime-web": "./vendor/onnxruntime-web/ort.wasm.min.mjs",
        "onnxruntime-web/webgpu": "./vendor/onnxruntime-web/ort.min.mjs"}


@pytest.mark.parametrize("files", [[], ["ort.wasm.min.mjs", "ort.min.mjs", *ORT_RUNTIME]],
                         ids=["no-bundle", "no-webgpu-runtime"])
def test_an_ort_dir_without_onnxruntime_web_is_one_line_and_leaves_nothing(
        files: list[str], registry: Registry, trained_run: Path, tmp_path: Path):
    package = fake_package(tmp_path / "elsewhere", files)
    result = export_web(registry, trained_run, tmp_path / "web", "--ort-dir", str(package))
    line = one_line_error(result)
    assert "onnxruntime-web" in line and str(package) in line
    assert not (tmp_path / "web").exists()


def test_bpe_imports_tokenizers_js_pinned(registry: Registry, small_corpus: Path,
                                          tmp_path: Path):
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, [
        "train", "gru", "--tokenizer", "bpe", "--set", "tokenizer.vocab_size=300",
        "--data", str(small_corpus), "--out", str(run), "--steps", "2", "--no-progress",
        "--block-size", "16", "--batch-size", "2", "--set", "model.hidden=16",
        "--set", "model.embed=16"], obj=registry)
    assert result.exit_code == 0, result.output
    result = export_web(registry, run, tmp_path / "web")
    assert result.exit_code == 0, result.output
    assert import_map(tmp_path / "web")["@huggingface/tokenizers"] == (
        f"https://cdn.jsdelivr.net/npm/@huggingface/tokenizers@{TOKENIZERS_JS_VERSION}"
        "/dist/tokenizers.min.mjs")
    assert "Apache-2.0" in (tmp_path / "web" / "LICENSES.md").read_text()


def test_a_tokenizer_without_a_javascript_form_is_refused_in_one_line(
        registry: Registry, small_corpus: Path, tmp_path: Path):
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, [
        "train", "bigram", "--tokenizer", "sentencepiece", "--set", "tokenizer.vocab_size=320",
        "--set", "tokenizer.model_type=bpe",  # no exact tokenizer.json form: see sentencepiece.py
        "--data", str(small_corpus), "--out", str(run), "--steps", "2", "--no-progress",
        "--block-size", "16", "--batch-size", "2"], obj=registry)
    assert result.exit_code == 0, result.output
    line = one_line_error(export_web(registry, run, tmp_path / "web"))
    assert "'sentencepiece'" in line and "--onnx" in line
    assert not (tmp_path / "web").exists()


def test_a_web_export_samples_in_python_like_an_onnx_export(
        registry: Registry, web_folder: Path, trained_export: Path):
    options = ["--prompt", "ROMEO:", "--temperature", "0", "--max-new-tokens", "30"]
    from_web = CliRunner().invoke(cli, ["sample", "--onnx", str(web_folder), *options],
                                  obj=registry)
    from_onnx = CliRunner().invoke(cli, ["sample", "--onnx", str(trained_export), *options],
                                   obj=registry)
    assert from_web.exit_code == 0, from_web.output
    assert from_web.output == from_onnx.output


def test_the_server_gives_browsers_the_types_they_insist_on(web_folder: Path, tmp_path: Path):
    (web_folder / "vendor-test.wasm").write_bytes(b"\0asm")
    server = web_server(web_folder, port=0)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = page_url(server)
        types = {name: urllib.request.urlopen(url + name).headers["Content-Type"]
                 for name in ["", "zoo.js", "manifest.json", "vendor-test.wasm", "model.onnx"]}
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(url + "nothing-here.js")
    finally:
        server.shutdown()
        server.server_close()
        (web_folder / "vendor-test.wasm").unlink()
    assert types == {"": "text/html; charset=utf-8", "zoo.js": "text/javascript",
                     "manifest.json": "application/json",
                     "vendor-test.wasm": "application/wasm",
                     "model.onnx": "application/octet-stream"}


#: Only for a server that hangs without a word: a slow machine that works is never this slow.
SERVE_SAFETY_SECONDS = 120


def test_zoo_serve_prints_the_address_and_serves_the_page(web_folder: Path):
    """The address line comes once the socket listens, so the page is asked for as soon as
    it is read: no polling, no deadline to race."""
    server = subprocess.Popen([sys.executable, "-m", "zoo", "serve", str(web_folder),
                               "--port", "0"], stdout=subprocess.PIPE, text=True)
    hung = threading.Timer(SERVE_SAFETY_SECONDS, server.kill)
    hung.start()
    try:
        line = server.stdout.readline() if server.stdout else ""  # blocks until it is ready
        found = re.fullmatch(rf"serving {re.escape(str(web_folder))} at "
                             r"(http://127\.0\.0\.1:(\d+)/) \(Ctrl-C stops\)\n", line)
        assert found, f"zoo serve printed {line!r} (exit code {server.poll()})"
        url, port = found[1], int(found[2])
        assert port > 0  # --port 0: the port the system chose, not 0
        with urllib.request.urlopen(url, timeout=SERVE_SAFETY_SECONDS) as response:
            page = response.read().decode()
        assert '<script type="module" src="page.js">' in page
    finally:
        hung.cancel()
        server.terminate()
        server.wait(SERVE_SAFETY_SECONDS)


def test_serving_a_folder_that_is_no_web_export_is_one_line(
        runner: CliRunner, trained_export: Path, tmp_path: Path):
    line = one_line_error(runner.invoke(cli, ["serve", str(trained_export)]))
    assert "has no index.html" in line and "zoo export RUN --web" in line
    line = one_line_error(runner.invoke(cli, ["serve", str(tmp_path / "missing")]))
    assert "does not exist" in line


def test_a_port_in_use_is_one_line_naming_the_way_out(runner: CliRunner, web_folder: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_error(runner.invoke(cli, ["serve", str(web_folder), "--port", str(port)]))
    assert f"port {port}" in line and "--port 0" in line


def page_call(entry: dict, settings: SamplingSettings, vocab: int,
              draws: np.ndarray) -> tuple[str, dict[str, np.ndarray]]:
    """The choosing loop zoo.js's loopChoices runs for ``settings``, and its choosing
    inputs for these draws (one a step)."""
    names, greedy = entry["inputs"], settings.temperature == 0
    top_k = settings.top_k if settings.top_k is not None and settings.top_k < vocab else None
    top_p = settings.top_p if settings.top_p is not None and settings.top_p < 1 else None
    kind = "greedy" if greedy else "top" if top_k or top_p else "temperature"
    feeds = {names["steps"]: np.array(len(draws), dtype=np.int64)}
    if not greedy:
        feeds |= {names["draws"]: draws, names["temperature"]: np.array(settings.temperature)}
    if kind == "top":
        feeds |= {names["top_k"]: np.array([top_k or vocab]),
                  names["top_p"]: np.array(top_p or 1.0)}
    return kind, feeds


@pytest.mark.parametrize("settings", [
    SamplingSettings(temperature=0), SamplingSettings(temperature=0.8),
    SamplingSettings(temperature=1.0, top_k=5), SamplingSettings(temperature=0.9, top_p=0.8),
    SamplingSettings(temperature=1.3, top_k=20, top_p=0.95)], ids=str)
def test_the_page_sampler_chooses_what_zoo_chooses_from_the_same_draws(
        web_folder: Path, settings: SamplingSettings):
    import onnxruntime

    manifest = json.loads((web_folder / "manifest.json").read_text())
    entry, vocab = manifest["web"]["sampler"], manifest["vocab_size"]
    stepper = OnnxStep(web_folder)
    steps = 200
    # zoo's own chooser on the step graph, a token at a time
    choose, rng = token_chooser(settings, 1, vocab), np.random.default_rng(7)
    state, token, expected = stepper.initial_state(1), 0, []
    for _ in range(steps):
        logits, state = stepper.step(np.array([token]), state)
        token = int(choose(logits, rng)[0])
        expected.append(token)
    # the page's graph, in two calls that carry the state, from the same draws
    draws = np.random.default_rng(7).random((steps, 1, 1))
    kind, _ = page_call(entry, settings, vocab, draws)
    session = onnxruntime.InferenceSession(str(web_folder / entry["graphs"][kind]["file"]))
    state_outputs = [wire["output"] for wire in manifest["state"]]
    state, token, chosen = stepper.initial_state(1), 0, []
    for part in (draws[:50], draws[50:]):
        made, *outputs = session.run(
            [entry["outputs"]["chosen"], *state_outputs],
            {stepper.token_name: np.array([[token]]), **state,
             **page_call(entry, settings, vocab, part)[1]})
        state = {wire["input"]: value for wire, value in zip(manifest["state"], outputs,
                                                                   strict=True)}
        chosen += made[:, 0, 0].tolist()
        token = chosen[-1]
    assert chosen == expected


def test_the_page_samplers_share_one_copy_of_the_weights(web_folder: Path):
    manifest = json.loads((web_folder / "manifest.json").read_text())
    entry = manifest["web"]["sampler"]
    files = [entry["weights"], *entry["graphs"].values()]
    for listed in files:
        assert listed["sha256"] == hashlib.sha256(
            (web_folder / listed["file"]).read_bytes()).hexdigest()
    weights = (web_folder / entry["weights"]["file"]).stat().st_size
    assert weights > 0.9 * (web_folder / "model.onnx").stat().st_size  # the weights, once
    for graph in entry["graphs"].values():  # each graph is the loop and its head alone
        assert (web_folder / graph["file"]).stat().st_size < 0.1 * weights


def test_a_step_the_loop_cannot_wrap_gets_a_page_that_steps_one_token_a_call(
        registry: Registry, trained_run: Path, tmp_path: Path):
    result = export_web(registry, trained_run, tmp_path / "web", "--set", "export.opset=12")
    assert result.exit_code == 0, result.output
    assert "the page steps one token a call" in result.output
    manifest = json.loads((tmp_path / "web" / "manifest.json").read_text())
    assert "sampler" not in manifest["web"]
    assert not list((tmp_path / "web").glob("sampler*"))
