"""Benchmark: stepwise sampling with onnxruntime against PyTorch eager, and int8 quantization.

For each model (gru-tied 2 layers x 128, gru-tied 1 layer x 512, the default
transformer, the default LSTM), trained briefly on Tiny Shakespeare and
exported with `zoo export --onnx` (float and `--quantize int8`), one process
measures, alternating A, B, A, B over several rounds (median):

- step tokens/s at batch 1: one forward of one token with the carried state
  (PyTorch eager under inference_mode vs an onnxruntime session);
- sampling tokens/s at batch 1 and with 16 samples as one batch, end to end
  through `zoo.torch_sampler.generate` and the onnxruntime sampler;
- int8 against float: file size, sampling tokens/s, validation loss (nats/char
  on the first VAL_CHARS characters of the validation split, stepped in
  parallel streams through the exported graph).

Usage: python tests/benchmarks/bench_onnx.py [--train-seconds 45] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import TINY_SHAKESPEARE, save, zoo

from zoo.registry import load_registry
from zoo.runs import load_run
from zoo.sampling_loop import SamplingSettings
from zoo.torch_sampler import generate as torch_generate
from zoo_exports.onnx_sampler import OnnxStep, load_export_tokenizer
from zoo_exports.onnx_sampler import generate as onnx_generate

MODELS = {
    "gru-tied 2x128": ["gru-tied", "--set", "model.layers=2", "--set", "model.hidden=128",
                       "--set", "model.embed=128"],
    "gru-tied 1x512": ["gru-tied", "--set", "model.layers=1", "--set", "model.hidden=512",
                       "--set", "model.embed=512"],
    "transformer 4x128": ["transformer"],
    "lstm 2x256": ["lstm"],
}
STEPS = 300  # tokens per timed stretch
VAL_CHARS = 20_000


def median_rate(measure, rounds: int) -> float:
    return statistics.median(measure() for _ in range(rounds))


def torch_step_rate(model, steps: int) -> float:
    with torch.inference_mode():
        state = model.init_state(1)
        token = torch.zeros(1, 1, dtype=torch.long)
        started = time.perf_counter()
        for _ in range(steps):
            logits, state = model(token, state)
            token = logits[:, -1].argmax(-1, keepdim=True)
        return steps / (time.perf_counter() - started)


def onnx_step_rate(stepper: OnnxStep, steps: int) -> float:
    state = stepper.initial_state(1)
    token = np.zeros(1, np.int64)
    started = time.perf_counter()
    for _ in range(steps):
        logits, state = stepper.step(token, state)
        token = logits.argmax(-1)
    return steps / (time.perf_counter() - started)


def sampling_rate(sample, num_samples: int) -> float:
    started = time.perf_counter()
    sample(num_samples)
    return num_samples * STEPS / (time.perf_counter() - started)


def onnx_val_loss(stepper: OnnxStep, tokens: list[int], streams: int = 16) -> float:
    """Nats per token of the exported step on ``tokens``, read as parallel contiguous streams."""
    length = len(tokens) // streams
    rows = np.array(tokens[: streams * length]).reshape(streams, length)
    state = stepper.initial_state(streams)
    total = 0.0
    for t in range(length - 1):
        logits, state = stepper.step(rows[:, t], state)
        shifted = logits - logits.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        total -= log_probs[np.arange(streams), rows[:, t + 1]].sum()
    return float(total / (streams * (length - 1)))


def measure(name: str, run: Path, float_dir: Path, int8_dir: Path, registry, rounds: int,
            val_text: str) -> dict:
    loaded = load_run(registry, run)
    model = loaded.model.eval()
    float_step, int8_step = OnnxStep(float_dir), OnnxStep(int8_dir)
    settings = SamplingSettings(temperature=0.8)

    def torch_sample(n: int) -> None:
        torch_generate(model, loaded.tokenizer, prompt="\n", max_new_tokens=STEPS,
                       settings=settings, num_samples=n, seed=0)

    def onnx_sample(directory: Path):
        return lambda n: onnx_generate(registry, directory, prompt="\n", max_new_tokens=STEPS,
                                       settings=settings, num_samples=n, seed=0)

    rates: dict[str, list[float]] = {}
    for _ in range(rounds):  # interleaved so that drift in machine speed hits every side
        for key, measure_once in {
            "torch_step": lambda: torch_step_rate(model, STEPS),
            "onnx_step": lambda: onnx_step_rate(float_step, STEPS),
            "int8_step": lambda: onnx_step_rate(int8_step, STEPS),
            "torch_sample": lambda: sampling_rate(torch_sample, 1),
            "onnx_sample": lambda: sampling_rate(onnx_sample(float_dir), 1),
            "int8_sample": lambda: sampling_rate(onnx_sample(int8_dir), 1),
            "torch_sample16": lambda: sampling_rate(torch_sample, 16),
            "onnx_sample16": lambda: sampling_rate(onnx_sample(float_dir), 16),
        }.items():
            rates.setdefault(key, []).append(measure_once())
    med = {key: statistics.median(values) for key, values in rates.items()}
    tokenizer = load_export_tokenizer(registry, float_dir, float_step.manifest)
    val_tokens = tokenizer.encode(val_text)
    float_loss, int8_loss = onnx_val_loss(float_step, val_tokens), onnx_val_loss(int8_step,
                                                                                  val_tokens)
    result = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "step_tokens_per_s": {"torch": round(med["torch_step"]), "onnx": round(med["onnx_step"]),
                              "onnx_int8": round(med["int8_step"])},
        "step_speedup": round(med["onnx_step"] / med["torch_step"], 2),
        "sample_tokens_per_s": {"torch": round(med["torch_sample"]),
                                "onnx": round(med["onnx_sample"]),
                                "onnx_int8": round(med["int8_sample"])},
        "sample_speedup": round(med["onnx_sample"] / med["torch_sample"], 2),
        "batch16_tokens_per_s": {"torch": round(med["torch_sample16"]),
                                 "onnx": round(med["onnx_sample16"])},
        "batch16_speedup": round(med["onnx_sample16"] / med["torch_sample16"], 2),
        "int8": {
            "float_bytes": (float_dir / "model.onnx").stat().st_size,
            "int8_bytes": (int8_dir / "model.onnx").stat().st_size,
            "float_val_loss": round(float_loss, 4),
            "int8_val_loss": round(int8_loss, 4),
            "val_loss_change": round(int8_loss - float_loss, 4),
            "left_in_float": int8_step.manifest["parity"].get("int8_left_in_float", []),
        },
    }
    print(name, result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=45.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=TINY_SHAKESPEARE)
    options = parser.parse_args()

    registry = load_registry()
    text = options.data.read_text("utf-8")
    val_text = text[int(len(text) * 0.9):][:VAL_CHARS]
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for index, (name, args) in enumerate(MODELS.items()):
            run = Path(scratch) / f"run{index}"
            zoo("train", *args, "--data", str(options.data), "--out", str(run),
                "--steps", "100000", "--max-seconds", str(options.train_seconds),
                "--no-progress", "--set", "train.eval_batches=5")
            float_dir, int8_dir = Path(scratch) / f"float{index}", Path(scratch) / f"int8{index}"
            zoo("export", str(run), "--onnx", "--out", str(float_dir))
            zoo("export", str(run), "--onnx", "--quantize", "int8", "--out", str(int8_dir))
            results[name] = measure(name, run, float_dir, int8_dir, registry, options.rounds,
                                    val_text)
    print(f"saved {save('onnx', {'torch_threads': torch.get_num_threads(), 'models': results})}")


if __name__ == "__main__":
    main()
