"""Benchmark: sampling in headless Chromium (the web export's page) beside Python's onnxruntime.

For each model (gru-tied 2 layers x 128 and the default transformer), trained
briefly on Tiny Shakespeare and exported with `zoo export --web --ort-dir`
(onnxruntime-web from npm, WebAssembly, one thread), one process alternates
over several rounds (median), each side taking its turn first:

- the page: Generate with temperature 0.8 and a seed, end of text ignored;
  tokens/s as the page reports it (from the first step after the prompt to
  the last token) and the time from the click to the first token;
- the page one step a call (``?loop=0``: the step graph, the page before
  sampler.onnx), the same way;
- Python: `zoo_exports.onnx_sampler.generate` on the same folder, the same
  settings, batch 1, tokens/s end to end and the time to its first text.

Each page is loaded once, in a tab of its own, and warmed up with one
generation as long as the measured ones (as Python is): WebAssembly is
optimized while it runs. The page's load time (fetching the files, creating
the session) is read once per page. Needs Chromium, chromedriver and npm (see tests/web_browser.py).
Usage: python tests/benchmarks/bench_web.py [--train-seconds 15] [--rounds 3] [--tokens 1000]
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


def python_rate(registry, export: Path, tokens: int) -> tuple[float, float]:
    """Python's tokens/s and seconds to its first text."""
    first: list[float] = []
    started = time.perf_counter()
    generate(registry, export, prompt="ROMEO:", max_new_tokens=tokens,
             settings=SamplingSettings(temperature=0.8), seed=1, ignore_end_of_text=True,
             on_text=lambda _: first or first.append(time.perf_counter() - started))
    return tokens / (time.perf_counter() - started), first[0]


def page_rate(page: Page, tokens: int) -> tuple[float, float]:
    """The page's tokens/s and seconds from the click to the first token."""
    page.generate("ROMEO:", temperature=0.8, seed=1, max_tokens=tokens, stop_at_end=False)
    assert page.state() == "done", page.error
    speed = page.driver.find_element("id", "speed")
    return (float(speed.get_attribute("data-tokens-per-second")),
            float(speed.get_attribute("data-first-token-ms")) / 1000)


def measure(side: str, tokens: int, registry, export: Path,
            pages: dict[str, tuple[str, Page]]) -> tuple[float, float]:
    """One side's tokens/s and time to first token; a page runs in its own tab."""
    if side == "python":
        return python_rate(registry, export, tokens)
    handle, page = pages[side]
    page.driver.switch_to.window(handle)
    return page_rate(page, tokens)


def open_pages(driver, url: str) -> tuple[dict[str, tuple[str, Page]], dict[str, float]]:
    """Each page in a tab of its own, loaded once (so WebAssembly stays compiled and
    optimized between rounds, as on a page a visitor keeps open); and its load time."""
    pages, loads = {}, {}
    for side, query in (("page", ""), ("page_one_step_a_call", "?loop=0")):
        driver.switch_to.new_window("tab")
        page = Page(driver, url + query)
        pages[side] = (driver.current_window_handle, page)
        loads[side] = float(driver.find_element("tag name", "body")
                            .get_attribute("data-load-ms")) / 1000
    return pages, loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
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
                    measured: dict[str, list[tuple[float, float]]] = {
                        "page": [], "page_one_step_a_call": [], "python": []}
                    pages, loads = open_pages(driver, url)
                    sides = list(measured)
                    for side in sides:  # warm up every side as long as it is measured
                        measure(side, options.tokens, registry, web, pages)
                    for round_ in range(options.rounds):
                        turn = sides[round_ % 3:] + sides[:round_ % 3]  # each side goes first
                        for side in turn:
                            measured[side].append(measure(side, options.tokens, registry,
                                                          web, pages))
                    for handle, _ in pages.values():
                        driver.switch_to.window(handle)
                        driver.close()
                    driver.switch_to.window(driver.window_handles[0])
                r = results[name] = {"page_load_s": loads}
                for side, figures in measured.items():
                    r[f"{side}_tokens_per_s"] = statistics.median(f[0] for f in figures)
                    r[f"{side}_first_token_s"] = statistics.median(f[1] for f in figures)
                    r[f"{side}_rounds"] = figures
                print(f"{name}: page {r['page_tokens_per_s']:,.0f} tokens/s (first token "
                      f"{r['page_first_token_s'] * 1000:.0f} ms, load {loads['page']:.2f} s), "
                      f"one step a call {r['page_one_step_a_call_tokens_per_s']:,.0f}, Python "
                      f"onnxruntime {r['python_tokens_per_s']:,.0f} (first text "
                      f"{r['python_first_token_s'] * 1000:.0f} ms); page/Python "
                      f"{r['page_tokens_per_s'] / r['python_tokens_per_s']:.2f}", flush=True)
    finally:
        driver.quit()
    print(f"saved {save('web', results)}")


if __name__ == "__main__":
    main()
