"""The web export's page in real headless Chromium: what a visitor would check.

Each architecture's page writes, greedily, exactly the text `zoo sample --onnx
EXPORT --temperature 0` writes; a seed makes a sample repeatable; a bad
prompt, a bad setting or a missing file shows a readable message. The page's
screenshot in docs/cli.md is taken here (set ``ZOO_SCREENSHOT_DIR`` to keep it).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from small_runs import FEW_STEPS, invoke
from web_browser import Page, chromium_session, require_browser, served, web_libraries

from zoo.registry.host import Registry

pytestmark = pytest.mark.slow

PROMPT = "ROMEO:\nWhat"
TOKENS = 60
ARCHITECTURES = ["bigram", "gru", "gru-tied", "lstm", "mlp", "rnn", "transformer", "wavenet"]


@pytest.fixture(scope="module")
def browser() -> Any:
    driver = chromium_session(*require_browser())
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def libraries(browser: Any) -> Path:
    return web_libraries()


@pytest.fixture(scope="module")
def web_export(registry: Registry, train_small, libraries: Path, tmp_path_factory):
    """Export (once per module) a small run of an architecture for the web; return the folder."""
    made: dict[tuple[str, tuple[str, ...]], Path] = {}

    def export(name: str, *options: str) -> Path:
        key = (name, options)
        if key not in made:
            out = tmp_path_factory.mktemp("web") / name
            invoke(registry, "export", str(train_small(name)), "--web", "--out", str(out),
                   "--ort-dir", str(libraries / "onnxruntime-web"), *options)
            made[key] = out
        return made[key]

    return export


def python_greedy(registry: Registry, export: Path, prompt: str, tokens: int) -> str:
    """What `zoo sample --onnx` prints, less the newline it ends with."""
    printed = invoke(registry, "sample", "--onnx", str(export), "--prompt", prompt,
                     "--temperature", "0", "--max-new-tokens", str(tokens))
    assert printed.endswith("\n")
    return printed[:-1]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_greedy_text_in_the_page_is_zoo_sample_onnx_text(
        architecture: str, registry: Registry, web_export, browser: Any) -> None:
    export = web_export(architecture)
    with served(export) as url:
        page = Page(browser, url)
        text = page.generate(PROMPT, temperature=0, max_tokens=TOKENS)
        assert page.state() == "done", page.error
    assert text == python_greedy(registry, export, PROMPT, TOKENS)
    assert len(text) > len(PROMPT)


def test_every_builtin_architecture_is_tried_in_the_page(registry: Registry) -> None:
    builtins = sorted(c.name for c in registry.select("architecture")
                      if c.provider.distribution == "zoo-lm")
    assert builtins == ARCHITECTURES


def test_a_seed_makes_the_sample_repeatable(web_export, browser: Any) -> None:
    settings = {"temperature": 1.0, "top_k": 20, "top_p": 0.95, "max_tokens": 80}
    with served(web_export("gru-tied")) as url:
        page = Page(browser, url)
        first = page.generate("", seed=7, **settings)
        again = page.generate("", seed=7, **settings)
        other = page.generate("", seed=8, **settings)
        greedy = page.generate("", seed=7, **{**settings, "temperature": 0})
    assert first == again
    assert other != first and greedy != first


def test_int8_export_samples_in_the_page(registry: Registry, web_export, browser: Any) -> None:
    export = web_export("transformer", "--quantize", "int8")
    with served(export) as url:
        page = Page(browser, url)
        text = page.generate(PROMPT, temperature=0, max_tokens=TOKENS)
        assert page.state() == "done", page.error
        assert "int8" in page.text_of("about")
    assert text == python_greedy(registry, export, PROMPT, TOKENS)


@pytest.mark.parametrize("tokenizer", ["byte", "word", "bpe", "sentencepiece"])
def test_each_tokenizer_scheme_encodes_and_decodes_as_zoo_does(
        tokenizer: str, registry: Registry, small_corpus: Path, libraries: Path,
        browser: Any, tmp_path: Path) -> None:
    run, export = tmp_path / "run", tmp_path / "web"
    sizes = {"bpe": ["--set", "tokenizer.vocab_size=300"],
             "word": ["--set", "tokenizer.vocab_size=400"],
             "sentencepiece": ["--set", "tokenizer.vocab_size=400"]}.get(tokenizer, [])
    invoke(registry, "train", "gru", "--tokenizer", tokenizer, "--data", str(small_corpus),
           "--out", str(run), *FEW_STEPS, "--block-size", "16", *sizes,
           "--set", "model.embed=16", "--set", "model.hidden=24")
    invoke(registry, "export", str(run), "--web", "--out", str(export),
           "--ort-dir", str(libraries / "onnxruntime-web"),
           "--tokenizers-dir", str(libraries / "@huggingface" / "tokenizers"))
    prompt = "ROMEO: café, naïve — ünïcödé 😀\n\tWhat"
    if tokenizer == "word":  # a prompt of pieces in its vocabulary (the rest is refused)
        pieces = json.loads((export / "manifest.json").read_text())["tokenizer"]["portable"]
        prompt = "\n".join(piece for piece in pieces["pieces"][8:24] if piece.strip())
    with served(export) as url:
        page = Page(browser, url)
        text = page.generate(prompt, temperature=0, max_tokens=40)
        assert page.state() == "done", page.error
    assert text == python_greedy(registry, export, prompt, 40)


def test_a_prompt_the_tokenizer_cannot_represent_is_named_on_the_page(
        web_export, browser: Any) -> None:
    with served(web_export("gru-tied")) as url:
        page = Page(browser, url)
        page.generate("ROMEO ☃ 😀")
        assert page.state() == "error"
        assert "cannot represent" in page.error and "☃" in page.error and "😀" in page.error
        page.generate("ROMEO:", temperature="hot")
        assert page.error == "temperature must be a number, not \"hot\""
        page.generate("ROMEO:", temperature=0.8, max_tokens="0")  # the form keeps its values
        assert page.error == "max tokens must be a whole number >= 1"
        text = page.generate("ROMEO:", temperature=0, max_tokens=5)
        assert page.state() == "done" and page.error == "" and text.startswith("ROMEO:")


@pytest.mark.parametrize("missing", ["sampler.onnx", "model.onnx"])
def test_a_missing_model_file_is_named_on_the_page(missing: str, web_export, browser: Any,
                                                     tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(web_export("gru-tied"), damaged)
    (damaged / missing).unlink()
    query = "" if missing == "sampler.onnx" else "?loop=0"  # the step graph, one step a call
    with served(damaged) as url:
        page = Page(browser, url + query)
    assert page.state() == "error"
    assert page.error.startswith(f"could not load {missing} (/{missing}): 404")
    assert "zoo export RUN --web" in page.error


@pytest.mark.parametrize("architecture", ["gru-tied", "transformer"])
def test_many_steps_a_call_choose_what_one_step_a_call_chooses_from_the_same_seed(
        architecture: str, web_export, browser: Any) -> None:
    """sampler.onnx chooses in the graph, zoo.js's chooseNext from the step's logits: the
    same draws give the same text (and greedy, the same argmax)."""
    settings = [{"temperature": 0.9, "top_k": 10, "top_p": None, "seed": 3},
                {"temperature": 1.1, "top_k": None, "top_p": 0.9, "seed": 4},
                {"temperature": 0, "top_k": None, "top_p": None, "seed": 5}]
    texts = {}
    with served(web_export(architecture)) as url:
        for query in ("", "?loop=0"):
            page = Page(browser, url + query)
            assert ("many steps a call" in page.text_of("about")) == (query == "")
            texts[query] = [page.generate(PROMPT, max_tokens=150, stop_at_end=False, **s)
                            for s in settings]
            assert page.state() == "done", page.error
    assert texts[""] == texts["?loop=0"]
    assert len(set(texts[""])) == 3


def test_the_page_reports_tokens_per_second_and_screenshot(
        registry: Registry, web_export, libraries: Path, browser: Any, tmp_path: Path) -> None:
    """docs/cli.md's screenshot comes from here: ``ZOO_SCREENSHOT_DIR`` keeps it, and
    ``ZOO_SCREENSHOT_RUN`` names a better-trained run to show than the test's own."""
    shown = os.environ.get("ZOO_SCREENSHOT_RUN")
    export = web_export("transformer")
    if shown:
        export = tmp_path / "shown"
        invoke(registry, "export", shown, "--web", "--out", str(export),
               "--ort-dir", str(libraries / "onnxruntime-web"))
    with served(export) as url:
        page = Page(browser, url)
        page.generate("ROMEO:", temperature=0.8, seed=3, max_tokens=300)
        speed = float(browser.find_element("id", "speed").get_attribute(
            "data-tokens-per-second"))
        assert speed > 0 and "tokens/s" in page.text_of("speed")
        assert "onnxruntime-web wasm" in page.text_of("about")  # the backend that loaded it
        browser.save_screenshot(str(tmp_path / "web-page.png"))
    assert (tmp_path / "web-page.png").stat().st_size > 10_000
    keep = os.environ.get("ZOO_SCREENSHOT_DIR")
    if keep:
        shutil.copy(tmp_path / "web-page.png", Path(keep) / "web-page.png")


def test_asking_for_webgpu_without_a_gpu_loads_its_bundle_and_falls_back_to_wasm(
        registry: Registry, web_export, browser: Any) -> None:
    """The WebGPU choice imports onnxruntime-web's WebGPU bundle (its own Tensor class);
    headless Chromium has no GPU, so that bundle's WebAssembly backend runs the model."""
    export = web_export("gru-tied")
    with served(export) as url:
        page = Page(browser, url)
        browser.execute_script(
            "const menu = document.getElementById('backend'); menu.value = 'webgpu';"
            "menu.dispatchEvent(new Event('change'));")
        page.wait_until(lambda state: state == "ready")
        assert "onnxruntime-web wasm" in page.text_of("about")
        fetched = browser.execute_script(
            "return performance.getEntriesByType('resource').map((entry) => entry.name)")
        assert any(name.endswith("/ort.min.mjs") for name in fetched)  # the WebGPU bundle
        assert any(name.endswith(".jsep.wasm") for name in fetched)  # and its runtime
        text = page.generate(PROMPT, temperature=0, max_tokens=TOKENS)
        assert page.state() == "done", page.error
    assert text == python_greedy(registry, export, PROMPT, TOKENS)
