"""Training through the CLI, the run directory, reloading, sampling and crash safety."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.config.run import build_run_config
from zoo.models.loading import load_run
from zoo.runs.run_directory import MODEL_FILE, plan_run_directory, read_metrics
from zoo.sampling.loop import SamplingSettings
from zoo.sampling.torch_sampler import generate
from zoo.training.interruption import TrainingInterrupted
from zoo.training.loop import train_run


def test_run_directory_holds_everything_needed(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer", "metrics.jsonl"} <= names
    assert not any(name.endswith(".tmp") or name.startswith(".zoo-tmp-") for name in names)
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
    # one token per character, and the end of text after the 6,000-character validation
    # text predicted too (the one before it is only read): the loss in bits, times 6,001 / 6,000
    assert last["bits_per_char"] == pytest.approx(last["loss"] / math.log(2) * 6001 / 6000)
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
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


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
@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])  # Ctrl-C; timeout, docker stop, Slurm
def test_a_stop_signal_keeps_the_checkpoint_and_says_how_to_resume(registry, small_corpus,
                                                                   tmp_path, tiny_run, stop):
    out = tmp_path / "stopped"
    process = _train_in_subprocess(small_corpus, out, tiny_run)
    _wait_for(out / MODEL_FILE, process)
    process.send_signal(getattr(signal, stop))
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 130
    assert "interrupted at step" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    assert load_run(registry, out).step >= 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".zoo-tmp-")]


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
    assert f"done: {last:,} steps in " in result.output
    assert ", the 1.5 s budget ended it (" in result.output  # not its 100,000 steps


#: A run whose steps take about a millisecond: bigram, 2 windows of 8 characters.
QUICK_STEPS = ["--batch-size", "2", "--block-size", "8", "--device", "cpu", "--no-progress",
               "--set", "train.eval_interval=100000", "--set", "train.log_interval=10"]


def _lr_records(out):
    return [(m["step"], m["lr"]) for m in read_metrics(out) if m["split"] == "train"]


def _budgeted_run(runner, registry, small_corpus, out, *options):
    result = runner.invoke(cli, ["train", "bigram", "--data", str(small_corpus), "--out",
                                 str(out), *QUICK_STEPS, *options], obj=registry)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow
def test_a_budget_without_steps_trains_until_the_clock_says_stop(runner, registry, small_corpus,
                                                                  tmp_path):
    """Not the 1,200 steps a run without --steps otherwise takes; the decay ends on time."""
    out = tmp_path / "clock"
    result = _budgeted_run(runner, registry, small_corpus, out, "--max-seconds", "10")
    step = load_run(registry, out).step
    assert step > 1200  # about 0.5 ms a step on a quiet 2-core CPU (10 ms under heavy load)
    assert re.search(rf"done: {step:,} steps in 1\ds, the 10 s budget ended it \(",
                     result.output), result.output
    last_step, last_lr = _lr_records(out)[-1]
    assert last_step > step - 100 and last_lr < 0.003 * 1.05  # bigram's min_lr 3e-3, lr 3e-2
    assert json.loads((out / "config.json").read_text())["train"]["steps"] is None


def test_without_steps_the_budget_is_the_runs_length(runner, registry, small_corpus, tmp_path,
                                                    monkeypatch):
    """The same, quick: a run without --steps stops at the default step count only when it has
    no budget (here made 5 steps, so that the budget is seen to go past it)."""
    monkeypatch.setattr("zoo.config.training.DEFAULT_STEPS", 5)
    plain = tmp_path / "plain"
    _budgeted_run(runner, registry, small_corpus, plain)
    assert load_run(registry, plain).step == 5
    out = tmp_path / "clock"
    result = _budgeted_run(runner, registry, small_corpus, out, "--max-seconds", "3")
    assert load_run(registry, out).step > 5 and "the 3 s budget ended it" in result.output
    shown = runner.invoke(cli, ["show", str(out)], obj=registry).output
    assert f"{load_run(registry, out).step} of a 3 s budget" in shown


def test_with_steps_and_a_budget_the_steps_can_end_it_too(runner, registry, small_corpus,
                                                          tmp_path):
    out = tmp_path / "steps"
    result = _budgeted_run(runner, registry, small_corpus, out, "--steps", "30",
                           "--max-seconds", "600")
    assert "done: 30 steps in " in result.output and ", its 30 steps ended it (" in result.output
    assert _lr_records(out)[-1] == (30, pytest.approx(0.003))  # the decay ended with the steps


def test_a_run_that_used_its_budget_resumes_only_with_more_steps(runner, registry, small_corpus,
                                                                tmp_path):
    out = tmp_path / "clock"
    _budgeted_run(runner, registry, small_corpus, out, "--max-seconds", "1.5",
                  "--set", "train.log_interval=1")
    step = load_run(registry, out).step
    again = runner.invoke(cli, ["train", "bigram", "--resume", str(out), "--no-progress"],
                          obj=registry)
    assert one_line_error(again) == (
        f"error: run {str(out)!r} has used its 1.5 s budget (train.max_seconds) at step {step}; "
        f"give --steps above {step} to train it further")
    more = runner.invoke(cli, ["train", "bigram", "--resume", str(out), "--steps",
                               str(step + 5), "--no-progress"], obj=registry)
    assert more.exit_code == 0, more.output
    assert f", its {step + 5:,} steps ended it (" in more.output
    assert load_run(registry, out).step == step + 5
    assert [lr for s, lr in _lr_records(out) if s > step] == [pytest.approx(0.003)] * 5


@pytest.mark.slow
def test_an_interrupted_budgeted_run_resumes_for_the_rest_of_its_budget(registry, small_corpus,
                                                                        tmp_path):
    """Ctrl-C after about 2 of 5 seconds, then --resume: about 3 seconds more (not 5), the
    learning rate going on down from where it was."""
    from zoo.training.resume import resumed_run_config

    config = build_run_config(registry, {"model": {"name": "bigram"},
                                         "dataset": {"name": "text"}}, [
        "train.max_seconds=5", "train.batch_size=2", "train.block_size=8", "train.device=cpu",
        "train.eval_interval=20", "train.log_interval=5", f"dataset.path={small_corpus}"])
    out = plan_run_directory(tmp_path / "run", "bigram")
    started: list[float] = []  # when the first step ended: the setup before it is no training

    def interrupt(step):
        if not started:
            started.append(time.monotonic())
        if time.monotonic() - started[0] > 2 and step % 20 == 5:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted):
        train_run(registry, config, out, progress=False, log=lambda _: None, on_step=interrupt)
    kept = load_run(registry, out).step
    lr_before = [lr for s, lr in _lr_records(out) if s <= kept][-1]
    resumed = resumed_run_config(registry, out)
    result = train_run(registry, resumed, out, resume=True, progress=False, log=lambda _: None)
    assert result.ended_by == "budget" and result.steps > kept
    last = [m for m in read_metrics(out) if m["split"] == "val"][-1]
    assert 5 <= last["elapsed_s"] < 6.5  # a fresh 5 s budget would end after 7 s
    assert result.seconds < 4
    assert [lr for s, lr in _lr_records(out) if s > kept][0] <= lr_before


def test_every_architecture_trains_samples_resumes_and_evaluates_through_the_cli(
        runner, registry, small_corpus, tmp_path, architecture_name):
    """One case per installed architecture (conftest.py), so one failure hides no other."""
    out = tmp_path / architecture_name
    result = runner.invoke(cli, [
        "train", architecture_name, "--data", str(small_corpus), "--out", str(out),
        "--steps", "2",
        "--batch-size", "2", "--block-size", "16", "--device", "cpu", "--no-progress",
        "--set", "train.eval_batches=1"], obj=registry)
    assert result.exit_code == 0, result.output
    sample = runner.invoke(cli, ["sample", str(out), "--max-new-tokens", "5", "--seed", "1"],
                           obj=registry)
    assert sample.exit_code == 0 and len(sample.output) >= 5, sample.output
    resumed = runner.invoke(cli, ["train", architecture_name, "--resume", str(out),
                                  "--steps", "3", "--no-progress"], obj=registry)
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
    # the tokens predicted: the split's, and the end of text that closes its one document
    tokens = len(loaded.tokenizer.encode(tiny_shakespeare.read_text()[1_003_854:])) + 1
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


# --- staged creation, the lock, SIGTERM -----------------------------------------------------


def _quick_config(registry, corpus, *extra):
    overrides = ["model.embed=16", "model.hidden=24", "train.steps=6", "train.batch_size=2",
                 "train.block_size=16", "train.eval_interval=3", "train.eval_batches=1",
                 "train.device=cpu", f"dataset.path={corpus}", *extra]
    return build_run_config(registry, {"model": {"name": "gru-tied"},
                                       "dataset": {"name": "text"}}, overrides)


def _staged(parent, name):
    return [p for p in parent.iterdir() if p.name.startswith(".zoo-tmp-") and
            p.name.endswith(f"-{name}")]


def test_a_new_run_appears_under_its_name_only_at_its_first_checkpoint(registry, small_corpus,
                                                                      tmp_path):
    out, seen = tmp_path / "run", {}

    def on_step(step):
        seen[step] = (out.exists(), [sorted(p.name for p in s.iterdir())
                                     for s in _staged(tmp_path, "run")])

    train_run(registry, _quick_config(registry, small_corpus), out, progress=False,
              log=lambda _: None, on_step=on_step)
    assert seen[1] == (False, [["config.json", "metrics.jsonl", "tokenizer"]]) or \
        seen[1] == (False, [["config.json", "tokenizer"]])
    assert seen[4][0] and seen[4][1] == []  # renamed into place at the checkpoint of step 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert load_run(registry, out).step == 6


@pytest.mark.parametrize("where", ["before the run files", "just after the run files"])
def test_an_interrupt_before_the_first_checkpoint_leaves_nothing_and_the_out_reusable(
        registry, small_corpus, tmp_path, where):
    out = tmp_path / "run"
    config = _quick_config(registry, small_corpus)

    def interrupt(line):  # the first log line comes right after the run files are written
        raise KeyboardInterrupt

    def interrupt_at_first_step(step):
        raise KeyboardInterrupt

    hooks = ({"log": interrupt} if where == "just after the run files"
             else {"log": lambda _: None, "on_step": interrupt_at_first_step})
    with pytest.raises(TrainingInterrupted) as interrupted:
        train_run(registry, config, out, progress=False, **hooks)
    assert "no checkpoint was written yet" in str(interrupted.value)
    assert list(tmp_path.iterdir()) == []
    train_run(registry, config, out, progress=False, log=lambda _: None)
    assert load_run(registry, out).step == 6


def test_an_existing_empty_out_directory_is_used(registry, small_corpus, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    train_run(registry, _quick_config(registry, small_corpus), out, progress=False,
              log=lambda _: None)
    assert load_run(registry, out).step == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_a_second_writer_of_the_same_run_is_refused_with_one_line(runner, registry,
                                                                  small_corpus, tmp_path,
                                                                  tiny_run):
    out, refusals = tmp_path / "run", []
    same_out = ["train", "gru-tied", "--data", str(small_corpus), "--out", str(out), *tiny_run]
    resume = ["train", "gru-tied", "--resume", str(out), "--steps", "12", "--no-progress"]

    def second_writer(command):
        def on_step(step):
            if step in (1, 7):  # while staged (before step 3's checkpoint), and once it exists
                refusals.append(one_line_error(runner.invoke(cli, command, obj=registry)))
        return on_step

    train_run(registry, _quick_config(registry, small_corpus), out, progress=False,
              log=lambda _: None, on_step=second_writer(same_out))
    assert refusals == [f"error: run directory {str(out)!r} is being created by another zoo "
                        "process; choose another --out"]
    config = _quick_config(registry, small_corpus, "train.steps=9")
    train_run(registry, config, out, resume=True, progress=False, log=lambda _: None,
              on_step=second_writer(resume))
    assert refusals[1] == (f"error: run directory {str(out)!r} is being written by another "
                           "zoo process; wait for it to finish or stop it")
    assert load_run(registry, out).step == 9


def test_default_names_taken_in_the_same_second_get_a_number(registry, small_corpus, tmp_path,
                                                             monkeypatch):
    import zoo
    import zoo.runs.run_directory

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(zoo.runs.run_directory.time, "strftime", lambda _: "20260101-000000")
    settings = {"data": [small_corpus], "steps": 3, "batch_size": 2, "block_size": 16,
                "device": "cpu", "progress": False, "log": lambda _: None,
                "model.embed": 16, "model.hidden": 24, "train.eval_interval": 3,
                "train.eval_batches": 1}
    first = zoo.train("gru-tied", registry=registry, **settings)
    second = zoo.train("gru-tied", registry=registry, **settings)
    assert first.directory == tmp_path / "runs" / "gru-tied-20260101-000000" or \
        first.directory == Path("runs") / "gru-tied-20260101-000000"
    assert second.directory.name == "gru-tied-20260101-000000-2" and second.step == 3


def test_numbered_runs_started_together_take_different_names(registry, small_corpus, tmp_path):
    config, target, inner = _quick_config(registry, small_corpus), tmp_path / "run", []

    def start_another(step):
        if step == 1:  # the first is still staged, under no name yet, when the second starts
            inner.append(train_run(registry, config, target, numbered=True, progress=False,
                                   log=lambda _: None).run_dir)

    first = train_run(registry, config, target, numbered=True, progress=False,
                      log=lambda _: None, on_step=start_another).run_dir
    assert (first, inner) == (target, [tmp_path / "run-2"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run-2"]
