"""Training through the CLI, the run directory, reloading, sampling and crash safety."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.config import build_run_config
from zoo.registry import load_registry
from zoo.runs import MODEL_FILE, load_run, plan_run_directory, read_metrics
from zoo.sampling_loop import SamplingSettings
from zoo.torch_sampler import generate
from zoo.training import train_run

#: Every installed architecture, one test case each, so one failure hides no other.
ARCHITECTURES = load_registry(disabled=set(), strict=True).names("architecture")


def test_run_directory_holds_everything_needed(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer", "metrics.jsonl"} <= names
    assert not any(name.endswith(".tmp") for name in names)
    config = json.loads((trained_run / "config.json").read_text())
    assert config["model"]["name"] == "gru-tied" and config["model"]["hidden"] == 48
    assert config["tokenizer"]["name"] == "char" and config["dataset"]["name"] == "text"
    assert config["train"]["steps"] == 8 and config["zoo_version"]


def test_metrics_record_training_and_evaluation(trained_run):
    metrics = read_metrics(trained_run)
    evaluations = [m for m in metrics if m["split"] == "val"]
    assert [m["step"] for m in evaluations] == [4, 8]
    last = evaluations[-1]
    vocab_size = json.loads((trained_run / "config.json").read_text())["vocab_size"]
    assert last["loss"] < math.log(vocab_size)  # better than a uniform guess
    assert last["perplexity"] == pytest.approx(math.exp(last["loss"]))
    # one token per character: bits per character is the loss in bits
    assert last["bits_per_char"] == pytest.approx(last["loss"] / math.log(2))
    assert 0.0 <= last["accuracy"] <= 1.0
    assert any(m["split"] == "train" and m["tokens_per_s"] > 0 for m in metrics)


def test_saved_run_reloads_to_identical_logits(registry, small_corpus, tmp_path):
    overrides = ["model.embed=16", "model.hidden=24", "train.steps=3", "train.batch_size=2",
                 "train.block_size=16", "train.eval_interval=3", "train.eval_batches=1",
                 "train.device=cpu", f"dataset.path={small_corpus}"]
    config = build_run_config(registry, {"model": {"name": "gru-tied"},
                                         "dataset": {"name": "text"}}, overrides)
    run_dir = plan_run_directory(tmp_path / "run", "gru-tied")
    result = train_run(registry, config, run_dir, progress=False, log=lambda _: None)
    loaded = load_run(registry, run_dir)
    assert loaded.step == 3
    idx = torch.randint(0, loaded.vocab_size, (2, 20))
    result.model.eval()
    with torch.no_grad():
        expected, _ = result.model(idx)
        actual, _ = loaded.model(idx)
    assert torch.equal(expected, actual)


def test_sampling_with_a_seed_is_reproducible(runner, registry, trained_run):
    args = ["sample", str(trained_run), "--prompt", "KING:", "--max-new-tokens", "60"]
    first = runner.invoke(cli, [*args, "--seed", "7"], obj=registry)
    second = runner.invoke(cli, [*args, "--seed", "7"], obj=registry)
    other = runner.invoke(cli, [*args, "--seed", "8"], obj=registry)
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    assert first.output != other.output
    assert first.output.startswith("KING:") and len(first.output) > len("KING:") + 30


def test_greedy_samples_agree_and_match_the_api(runner, registry, trained_run):
    result = runner.invoke(cli, ["sample", str(trained_run), "--temperature", "0",
                                 "--num-samples", "2", "--max-new-tokens", "40"], obj=registry)
    assert result.exit_code == 0, result.output
    blocks = result.output.split("--- sample 2 ---\n")
    first = blocks[0].removeprefix("--- sample 1 ---\n").rstrip("\n")
    assert first == blocks[1].rstrip("\n")
    loaded = load_run(registry, trained_run)
    [text] = generate(loaded.model, loaded.tokenizer, max_new_tokens=40,
                      settings=SamplingSettings(temperature=0))
    assert first == text


def test_streamed_sample_equals_the_batch_sample(registry, trained_run):
    loaded = load_run(registry, trained_run)
    pieces: list[str] = []
    settings = SamplingSettings(temperature=1.0, top_k=10)
    [text] = generate(loaded.model, loaded.tokenizer, max_new_tokens=50, settings=settings,
                      seed=3, on_text=pieces.append)
    assert "".join(pieces) == text


def _train_in_subprocess(small_corpus, out, tiny_run, *extra):
    command = [sys.executable, "-m", "zoo", "train", "gru-tied", "--data", str(small_corpus),
               "--out", str(out), *tiny_run, "--steps", "100000",
               "--set", "train.eval_interval=2", "--set", "train.eval_batches=1", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_ctrl_c if os.name == "posix" else None)


def _default_ctrl_c() -> None:
    """Give the child Ctrl-C's default handling, whatever this process inherited.

    A shell starts background jobs with SIGINT ignored, and Python keeps an
    ignored SIGINT ignored; without this the Ctrl-C test would hang whenever
    the suite runs in the background.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(path, process, timeout=600.0):  # a guard against a hang, not a speed check
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("delay", [0.0, 0.37])
def test_killing_training_leaves_the_last_checkpoint_loadable(registry, small_corpus, tmp_path,
                                                              tiny_run, delay):
    out = tmp_path / "killed"
    process = _train_in_subprocess(small_corpus, out, tiny_run)
    try:
        _wait_for(out / MODEL_FILE, process)
        time.sleep(delay)
    finally:
        process.kill()
        process.communicate()
    loaded = load_run(registry, out)
    assert loaded.step >= 2 and loaded.step % 2 == 0
    # SIGKILL may leave a hidden temporary file, never a half-written real one
    visible = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert visible == {"config.json", "model.safetensors", "tokenizer", "metrics.jsonl",
                       "resume.safetensors"}


@pytest.mark.skipif(os.name == "nt", reason="needs POSIX signals")
def test_ctrl_c_reports_the_kept_checkpoint(registry, small_corpus, tmp_path, tiny_run):
    out = tmp_path / "interrupted"
    process = _train_in_subprocess(small_corpus, out, tiny_run)
    _wait_for(out / MODEL_FILE, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 130
    assert "interrupted at step" in stderr and "Traceback" not in stderr
    assert load_run(registry, out).step >= 2


def test_time_budget_stops_training_and_checkpoints(runner, registry, small_corpus, tmp_path,
                                                    tiny_run):
    out = tmp_path / "budget"
    result = runner.invoke(cli, ["train", "gru-tied", "--data", str(small_corpus), "--out",
                                 str(out), *tiny_run, "--steps", "100000", "--max-seconds", "1.5"],
                           obj=registry)
    assert result.exit_code == 0, result.output
    evaluations = [m for m in read_metrics(out) if m["split"] == "val"]
    last = evaluations[-1]["step"]
    assert 0 < last < 100000
    assert load_run(registry, out).step == last


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_trains_samples_resumes_and_evaluates_through_the_cli(
        runner, registry, small_corpus, tmp_path, name):
    out = tmp_path / name
    result = runner.invoke(cli, [
        "train", name, "--data", str(small_corpus), "--out", str(out), "--steps", "2",
        "--batch-size", "2", "--block-size", "16", "--device", "cpu", "--no-progress",
        "--set", "train.eval_batches=1"], obj=registry)
    assert result.exit_code == 0, result.output
    sample = runner.invoke(cli, ["sample", str(out), "--max-new-tokens", "5", "--seed", "1"],
                           obj=registry)
    assert sample.exit_code == 0 and len(sample.output) >= 5, sample.output
    resumed = runner.invoke(cli, ["train", name, "--resume", str(out), "--steps", "3",
                                  "--no-progress"], obj=registry)
    assert resumed.exit_code == 0, resumed.output
    evaluated = runner.invoke(cli, ["eval", str(out), "--json"], obj=registry)
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.output)
    assert report["step"] == 3 and math.isfinite(report["loss"]), report


@pytest.mark.parametrize(("tokenizer", "extra"), [
    ("char", []), ("byte", []), ("bpe", ["--set", "tokenizer.vocab_size=300"]),
    ("sentencepiece", ["--set", "tokenizer.vocab_size=400"]),
])
def test_every_tokenizer_trains_samples_and_reports_bits_per_char(
        runner, registry, tiny_shakespeare, tmp_path, tiny_run, tokenizer, extra):
    out = tmp_path / tokenizer
    result = runner.invoke(cli, [
        "train", "gru-tied", "--tokenizer", tokenizer, "--dataset", "tinyshakespeare",
        "--set", f"dataset.path={tiny_shakespeare}", "--out", str(out), *tiny_run, *extra,
        "--steps", "2", "--set", "train.eval_interval=2"], obj=registry)
    assert result.exit_code == 0, result.output
    [evaluation] = [m for m in read_metrics(out) if m["split"] == "val"]
    val_chars, val_bytes = 111_540, len(tiny_shakespeare.read_text()[1_003_854:].encode())
    loaded = load_run(registry, out)
    tokens = len(loaded.tokenizer.encode(tiny_shakespeare.read_text()[1_003_854:]))
    bits_per_token = evaluation["loss"] / math.log(2)
    assert evaluation["bits_per_char"] == pytest.approx(bits_per_token * tokens / val_chars)
    assert evaluation["bits_per_byte"] == pytest.approx(bits_per_token * tokens / val_bytes)
    sample = runner.invoke(cli, ["sample", str(out), "--prompt", "ROMEO:", "--max-new-tokens",
                                 "8", "--seed", "0"], obj=registry)
    assert sample.exit_code == 0 and sample.output.startswith("ROMEO:")


def test_missing_run_directory(runner, registry, tmp_path):
    line = one_line_error(runner.invoke(cli, ["sample", str(tmp_path / "nope")], obj=registry))
    assert "does not exist" in line


def test_directory_that_is_not_a_run(runner, registry, tmp_path):
    line = one_line_error(runner.invoke(cli, ["sample", str(tmp_path)], obj=registry))
    assert "is not a zoo run" in line


def test_corpus_too_small_for_one_window(runner, registry, tmp_path, tiny_run):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("hello world\n" * 2)
    result = runner.invoke(
        cli, ["train", "gru-tied", "--data", str(corpus), "--out", str(tmp_path / "r"),
              *tiny_run], obj=registry)
    assert "fewer than block_size + 1" in one_line_error(result)
