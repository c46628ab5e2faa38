"""Benchmark: sampling in headless Chromium (the web export's page) beside Python's onnxruntime.

For each model (gru-tied 2 layers x 128 and the default transformer), trained
briefly on Tiny Shakespeare and exported with `zoo export --web --ort-dir`
(onnxruntime-web from npm, WebAssembly, one thread), one process alternates
over several rounds (median):

- the page: Generate with temperature 0.8 and a seed, end of text ignored,
  tokens/s as the page reports it (first chosen token to last);
- Python: `zoo_exports.onnx_sampler.generate` on the same folder, the same
  settings, batch 1, tokens/s end to end.

Needs Chromium, chromedriver and npm (see tests/web_browser.py).
Usage: python tests/benchmarks/bench_web.py [--train-seconds 15] [--rounds 5] [--tokens 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, TINY_SHAKESPEARE, save, zoo

sys.path.insert(0, str(REPO / "tests"))
from web_browser import Page, chromium_session, require_browser, served, web_libraries  # noqa: E402

from zoo.registry.host import load_registry
from zoo.sampling.loop import SamplingSettings
from zoo_exports.onnx_sampler import generate  # noqa: E402

MODELS = {
    "gru-tied 2x128": ["gru-tied", "--set", "model.layers=2", "--set", "model.hidden=128",
                       "--set", "model.embed=128"],
    "transformer 4x128": ["transformer"],
}


def python_rate(registry, export: Path, tokens: int) -> float:
    started = time.perf_counter()
    generate(registry, export, prompt="ROMEO:", max_new_tokens=tokens,
             settings=SamplingSettings(temperature=0.8), seed=1, ignore_end_of_text=True)
    return tokens / (time.perf_counter() - started)


def page_rate(page: Page, tokens: int) -> float:
    page.generate("ROMEO:", temperature=0.8, seed=1, max_tokens=tokens, stop_at_end=False)
    assert page.state() == "done", page.error
    return float(page.driver.find_element("id", "speed").get_attribute(
        "data-tokens-per-second"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=1000)
    options = parser.parse_args()

    registry = load_registry()
    libraries = web_libraries()
    driver = chromium_session(*require_browser())
    results = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for index, (name, args) in enumerate(MODELS.items()):
                run, web = Path(scratch) / f"run{index}", Path(scratch) / f"web{index}"
                zoo("train", *args, "--data", str(TINY_SHAKESPEARE), "--out", str(run),
                    "--steps", "100000", "--max-seconds", str(options.train_seconds),
                    "--no-progress", "--set", "train.eval_batches=5")
                zoo("export", str(run), "--web", "--out", str(web),
                    "--ort-dir", str(libraries / "onnxruntime-web"))
                with served(web) as url:
                    page = Page(driver, url)
                    page_rate(page, 50)  # warm up both
                    python_rate(registry, web, 50)
                    pages, pythons = [], []
                    for round_ in range(options.rounds):
                        order = [0, 1] if round_ % 2 == 0 else [1, 0]  # ABBA
                        for which in order:
                            if which == 0:
                                pages.append(page_rate(page, options.tokens))
                            else:
                                pythons.append(python_rate(registry, web, options.tokens))
                results[name] = {"page_tokens_per_s": statistics.median(pages),
                                 "python_tokens_per_s": statistics.median(pythons),
                                 "page_rounds": pages, "python_rounds": pythons}
                r = results[name]
                print(f"{name}: page {r['page_tokens_per_s']:,.0f} tokens/s, Python "
                      f"onnxruntime {r['python_tokens_per_s']:,.0f} tokens/s, ratio "
                      f"{r['page_tokens_per_s'] / r['python_tokens_per_s']:.2f}", flush=True)
    finally:
        driver.quit()
    print(f"saved {save('web', results)}")


if __name__ == "__main__":
    main()
