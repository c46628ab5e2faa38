"""Benchmark: stepwise sampling with onnxruntime against PyTorch eager, and int8 quantization.

Each model (gru-tied 2 x 128 and 1 x 512, and every built-in architecture
at its defaults) is trained briefly on Tiny Shakespeare and exported with
`zoo export --onnx` (and `--quantize int8`). Then one process measures,
alternating the order of the measurements A B B A over the rounds, medians:

- step: tokens/s of the step alone, one token per row with the carried
  state and the argmax fed back; PyTorch eager under inference_mode against
  the onnxruntime sampler's bound step (`OnnxStep(...).bind`);
- sample: tokens/s end to end, `zoo.sampling.torch_sampler.generate` against
  `zoo_exports.onnx_sampler.generate` (what `zoo sample` and `zoo sample
  --onnx` run), temperature 0.8, end of text ignored so that every run makes
  the same number of tokens, the export already opened once (its first
  opening is reported apart, as open ms);
- both at batch 1 and at batch 16 (`--num-samples 16`, tokens/s over all rows);
- what each part of the onnxruntime sampler buys, each as a ratio measured in
  the same rounds (see ABLATION; --no-ablation skips it);
- int8 against float: file size, step tokens/s, validation loss (nats/char
  on the first VAL_CHARS characters of the validation split, stepped in
  parallel streams through the exported graph).

Usage: python tests/benchmarks/bench_onnx.py [--train-seconds 15] [--rounds 5]
       [--tokens 500] [--models gru-tied-2x128,transformer] [--no-ablation] [--no-int8]
       [--quick]   (--quick: 3 s of training, 3 rounds, 200 tokens, no int8, no ablation)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx  # noqa: F401  imported once here, not inside the first open ms
import torch
from common import TINY_SHAKESPEARE, save, zoo

from zoo.models.loading import load_run
from zoo.registry.host import load_registry
from zoo.sampling.loop import SamplingSettings, continue_sequences
from zoo.sampling.torch_sampler import generate as torch_generate
from zoo_exports import onnx_sampler
from zoo_exports.onnx_sampler import OnnxStep, open_export
from zoo_exports.onnx_sampler import generate as onnx_generate

MODELS = {
    "gru-tied 2x128": ["gru-tied", "--set", "model.layers=2", "--set", "model.hidden=128",
                       "--set", "model.embed=128"],
    "gru-tied 1x512": ["gru-tied", "--set", "model.layers=1", "--set", "model.hidden=512",
                       "--set", "model.embed=512"],
    "transformer 4x128": ["transformer"],
    "lstm 2x256": ["lstm"],
    "gru": ["gru"],
    "rnn": ["rnn"],
    "mlp": ["mlp"],
    "wavenet": ["wavenet"],
    "bigram": ["bigram"],
}
#: --ablation: each name is a way of running the onnxruntime side, measured beside the
#: sampler as it is; together they say what each of its parts buys.
ABLATION = {
    "step_run": "session.run with numpy feeds, batch axis free (the step before IOBinding)",
    "step_bound_free": "IOBinding, batch axis free",
    "step_bound_1thread": "IOBinding, batch fixed, one intra-op thread",
    "sample_numpy_choice": "bound step, token chosen in numpy (token_chooser), no head",
    "sample_run_numpy": "session.run step and numpy choice (the sampler before)",
    "sample_cold": "generate opening the export every time (no open_export cache)",
}
SETTINGS = SamplingSettings(temperature=0.8)
VAL_CHARS = 20_000


def torch_steps(model: Any, batch: int, steps: int) -> None:
    with torch.inference_mode():
        state = model.init_state(batch)
        token = torch.zeros(batch, 1, dtype=torch.long)
        for _ in range(steps):
            logits, state = model(token, state)
            token = logits[:, -1].argmax(-1, keepdim=True)


def bound_steps(stepper: OnnxStep, batch: int, steps: int) -> None:
    step = stepper.bind(batch)
    token = np.zeros(batch, np.int64)
    for _ in range(steps):
        token = step(token).argmax(-1)


def run_steps(stepper: OnnxStep, batch: int, steps: int) -> None:
    state = stepper.initial_state(batch)
    token = np.zeros(batch, np.int64)
    for _ in range(steps):
        logits, state = stepper.step(token, state)
        token = logits.argmax(-1)


def numpy_choice(stepper: OnnxStep, batch: int, steps: int, bound: bool) -> None:
    """The sampling loop with the token chosen in numpy, as the sampler did before its head."""
    rng = np.random.default_rng(0)
    if bound:
        step = stepper.bind(batch)
    else:
        state = stepper.initial_state(batch)

        def step(ids: np.ndarray) -> np.ndarray:
            nonlocal state
            logits, state = stepper.step(ids, state)
            return logits

    continue_sequences(step(np.zeros(batch, np.int64)), step, decode=lambda ids: "",
                       max_new_tokens=steps, settings=SETTINGS, rng=rng)


def rate(work: Callable[[], Any], tokens: int) -> Callable[[], float]:
    def measure() -> float:
        started = time.perf_counter()
        work()
        return tokens / (time.perf_counter() - started)

    return measure


def onnx_val_loss(stepper: OnnxStep, tokens: list[int], streams: int = 16) -> float:
    """Nats per token of the exported step on ``tokens``, read as parallel contiguous streams."""
    length = len(tokens) // streams
    rows = np.array(tokens[: streams * length]).reshape(streams, length)
    step = stepper.bind(streams)
    total = 0.0
    for t in range(length - 1):
        logits = step(rows[:, t]).astype(np.float64)
        shifted = logits - logits.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        total -= log_probs[np.arange(streams), rows[:, t + 1]].sum()
    return float(total / (streams * (length - 1)))


def measurements(model: Any, tokenizer: Any, registry: Any, export: Path, tokens: int,
                 ablation: bool) -> dict[str, Callable[[], float]]:
    """Name -> a measurement of tokens/s; batch 16 runs tokens // 5 steps."""
    steps16 = max(1, tokens // 5)
    step = {batch: OnnxStep(export, batch_size=batch) for batch in (1, 16)}
    options = {"prompt": "\n", "settings": SETTINGS, "seed": 0, "ignore_end_of_text": True}

    def torch_sample(batch: int, count: int) -> Callable[[], Any]:
        return lambda: torch_generate(model, tokenizer, max_new_tokens=count,
                                      num_samples=batch, **options)

    def onnx_sample(batch: int, count: int) -> Callable[[], Any]:
        return lambda: onnx_generate(registry, export, max_new_tokens=count,
                                     num_samples=batch, **options)

    found = {
        "torch_step": rate(lambda: torch_steps(model, 1, tokens), tokens),
        "onnx_step": rate(lambda: bound_steps(step[1], 1, tokens), tokens),
        "torch_sample": rate(torch_sample(1, tokens), tokens),
        "onnx_sample": rate(onnx_sample(1, tokens), tokens),
        "torch_step16": rate(lambda: torch_steps(model, 16, steps16), 16 * steps16),
        "onnx_step16": rate(lambda: bound_steps(step[16], 16, steps16), 16 * steps16),
        "torch_sample16": rate(torch_sample(16, steps16), 16 * steps16),
        "onnx_sample16": rate(onnx_sample(16, steps16), 16 * steps16),
    }
    if ablation:
        free, one_thread = OnnxStep(export), OnnxStep(export, threads=1, batch_size=1)

        def cold() -> None:
            kept = dict(onnx_sampler._OPENED)
            onnx_sampler._OPENED.clear()
            onnx_sample(1, tokens)()
            onnx_sampler._OPENED.update(kept)  # the other measurements stay warm

        found.update({
            "step_run": rate(lambda: run_steps(free, 1, tokens), tokens),
            "step_bound_free": rate(lambda: bound_steps(free, 1, tokens), tokens),
            "step_bound_1thread": rate(lambda: bound_steps(one_thread, 1, tokens), tokens),
            "sample_numpy_choice": rate(lambda: numpy_choice(step[1], 1, tokens, True), tokens),
            "sample_run_numpy": rate(lambda: numpy_choice(free, 1, tokens, False), tokens),
            "sample_cold": rate(cold, tokens),
        })
    return found


def measure(name: str, run: Path, float_dir: Path, int8_dir: Path | None, registry: Any,
            options: argparse.Namespace, val_text: str) -> dict[str, Any]:
    loaded = load_run(registry, run)
    model = loaded.model.eval()
    onnx_sampler._OPENED.clear()
    started = time.perf_counter()
    open_export(registry, float_dir, 1, SETTINGS)
    open_ms = (time.perf_counter() - started) * 1000
    found = measurements(model, loaded.tokenizer, registry, float_dir, options.tokens,
                         options.ablation)
    if int8_dir is not None:
        int8_step = OnnxStep(int8_dir, batch_size=1)
        found["int8_step"] = rate(lambda: bound_steps(int8_step, 1, options.tokens),
                                  options.tokens)
    for measure_once in found.values():  # warm up: sessions opened, caches filled
        measure_once()
    rates: dict[str, list[float]] = {key: [] for key in found}
    for round_ in range(options.rounds):  # A B B A: drift in machine speed hits every side
        order = list(found.items())
        for key, measure_once in order if round_ % 2 == 0 else reversed(order):
            rates[key].append(measure_once())
    med = {key: statistics.median(values) for key, values in rates.items()}
    result: dict[str, Any] = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "tokens_per_s": {key: round(value) for key, value in med.items()},
        "rounds": {key: [round(v) for v in values] for key, values in rates.items()},
        "step_x": med["onnx_step"] / med["torch_step"],
        "sample_x": med["onnx_sample"] / med["torch_sample"],
        "sample_of_step": med["onnx_sample"] / med["onnx_step"],
        "step16_x": med["onnx_step16"] / med["torch_step16"],
        "sample16_x": med["onnx_sample16"] / med["torch_sample16"],
        "open_ms": round(open_ms, 1),
    }
    if options.ablation:
        result["ablation"] = {key: med[key] / med["onnx_sample" if key.startswith("sample")
                                                  else "onnx_step"] for key in ABLATION}
    if int8_dir is not None:
        float_step = OnnxStep(float_dir, batch_size=16)
        tokenizer = loaded.tokenizer
        val_tokens = tokenizer.encode(val_text)
        float_loss = onnx_val_loss(float_step, val_tokens)
        int8_loss = onnx_val_loss(OnnxStep(int8_dir, batch_size=16), val_tokens)
        result["int8"] = {
            "float_bytes": (float_dir / "model.onnx").stat().st_size,
            "int8_bytes": (int8_dir / "model.onnx").stat().st_size,
            "float_val_loss": round(float_loss, 4),
            "int8_val_loss": round(int8_loss, 4),
            "val_loss_change": round(int8_loss - float_loss, 4),
            "step_x_float": med["int8_step"] / med["onnx_step"],
        }
    print(f"{name}: {result['tokens_per_s']}", flush=True)
    return result


def table(results: dict[str, dict[str, Any]], ablation: bool) -> str:
    """The results as Markdown tables: speeds and ratios, then the ablation, then int8."""
    def x(value: float) -> str:
        return f"{value:.2f}"

    lines = [
        "| model | params | step torch | step onnx | step × | sample torch | sample onnx "
        "| sample × | onnx sample / step | b16 step × | b16 sample × | open ms |",
        "|---" * 12 + "|",
    ]
    for name, r in results.items():
        t = r["tokens_per_s"]
        lines.append(
            f"| {name} | {r['parameters'] / 1e6:.2f}M | {t['torch_step']:,} | "
            f"{t['onnx_step']:,} | **{x(r['step_x'])}** | {t['torch_sample']:,} | "
            f"{t['onnx_sample']:,} | **{x(r['sample_x'])}** | **{x(r['sample_of_step'])}** | "
            f"{x(r['step16_x'])} | {x(r['sample16_x'])} | {r['open_ms']} |")
    if ablation:
        lines += ["", "Ablation, batch 1: tokens/s of each variant / the sampler's own "
                  "(step variants against the bound step, sample variants against generate)", ""]
        lines += ["| model | " + " | ".join(ABLATION) + " |", "|---" * (len(ABLATION) + 1) + "|"]
        for name, r in results.items():
            lines.append(f"| {name} | " + " | ".join(x(r["ablation"][key]) for key in ABLATION)
                         + " |")
        lines += [""] + [f"- {key}: {what}" for key, what in ABLATION.items()]
    if any("int8" in r for r in results.values()):
        lines += ["", "| model | float MB | int8 MB | float val loss | int8 val loss | change "
                  "| int8 step / float step |", "|---" * 7 + "|"]
        for name, r in results.items():
            if "int8" in r:
                q = r["int8"]
                lines.append(f"| {name} | {q['float_bytes'] / 1e6:.2f} | "
                             f"{q['int8_bytes'] / 1e6:.2f} | {q['float_val_loss']} | "
                             f"{q['int8_val_loss']} | {q['val_loss_change']:+} | "
                             f"{x(q['step_x_float'])} |")
    return "\n".join(lines)


#: Issue 14's targets: (model, what, at least).
TARGETS = [
    ("gru-tied 2x128", "sample_of_step", 0.9), ("gru-tied 2x128", "step_x", 4.0),
    ("gru-tied 1x512", "step_x", 2.3), ("transformer 4x128", "step_x", 2.5),
    ("transformer 4x128", "step16_x", 1.5),
    *[(name, "sample_x", 2.0) for name in MODELS],
]


def targets(results: dict[str, dict[str, Any]]) -> str:
    """One line a target of the models measured: the ratio, and whether it reaches it."""
    lines = ["targets (medians of this run):"]
    for name, key, least in TARGETS:
        if name in results:
            value = results[name][key]
            lines.append(f"  {name} {key} {value:.2f} >= {least}: "
                         f"{'yes' if value >= least else 'NO'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=500, help="tokens per timed stretch")
    parser.add_argument("--models", default="",
                        help="comma-separated, spaces as dashes: gru-tied-2x128,transformer")
    parser.add_argument("--no-ablation", dest="ablation", action="store_false",
                        help="skip measuring what each part of the onnxruntime sampler buys")
    parser.add_argument("--no-int8", dest="int8", action="store_false")
    parser.add_argument("--quick", action="store_true",
                        help="3 s of training, 3 rounds, 200 tokens, no int8, no ablation")
    parser.add_argument("--data", type=Path, default=TINY_SHAKESPEARE)
    options = parser.parse_args()
    if options.quick:
        options.train_seconds, options.rounds, options.tokens = 3.0, 3, 200
        options.int8 = options.ablation = False
    wanted = [w.strip() for w in options.models.split(",") if w.strip()]
    models = {name: args for name, args in MODELS.items()
              if not wanted or any(name.replace(" ", "-").startswith(w) for w in wanted)}

    registry = load_registry()
    text = options.data.read_text("utf-8")
    val_text = text[int(len(text) * 0.9):][:VAL_CHARS]
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for index, (name, args) in enumerate(models.items()):
            run = Path(scratch) / f"run{index}"
            zoo("train", *args, "--data", str(options.data), "--out", str(run),
                "--steps", "100000", "--max-seconds", str(options.train_seconds),
                "--no-progress", "--set", "train.eval_batches=5")
            float_dir, int8_dir = Path(scratch) / f"float{index}", Path(scratch) / f"int8{index}"
            zoo("export", str(run), "--onnx", "--out", str(float_dir))
            if options.int8:
                zoo("export", str(run), "--onnx", "--quantize", "int8", "--out", str(int8_dir))
            results[name] = measure(name, run, float_dir, int8_dir if options.int8 else None,
                                    registry, options, val_text)
    print()
    print(f"onnx benchmark: {options.rounds} rounds of {options.tokens} tokens (batch 16: "
          f"{max(1, options.tokens // 5)} steps), {options.train_seconds:g} s of training; "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads")
    print(table(results, options.ablation))
    print()
    print(targets(results))
    saved = save("onnx", {"torch_threads": torch.get_num_threads(), "rounds": options.rounds,
                          "tokens": options.tokens, "models": results})
    print(f"saved {saved}")


if __name__ == "__main__":
    main()
