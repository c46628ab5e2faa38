"""--resume continues a run exactly: the same logged losses as an uninterrupted run, on CPU."""

from __future__ import annotations

import json

import pytest

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.config.run import RunConfig, build_run_config
from zoo.errors import ZooError
from zoo.runs.run_directory import read_config, read_metrics
from zoo.training.interruption import TrainingInterrupted
from zoo.training.loop import train_run
from zoo.training.resume import resumed_run_config


def _config(registry, corpus, architecture, *extra):
    overrides = [
        "model.embed=16", "model.hidden=24", "model.dropout=0.2", "train.steps=12",
        "train.batch_size=3", "train.block_size=16", "train.eval_interval=4",
        "train.eval_batches=2", "train.log_interval=2", "train.warmup_steps=3",
        "train.device=cpu", f"dataset.path={corpus}", *extra,
    ]
    layers = {"model": {"name": architecture}, "dataset": {"name": "text"}}
    return build_run_config(registry, layers, overrides)


def _interrupt_at(step):
    def on_step(current):
        if current == step:
            raise KeyboardInterrupt

    return on_step


@pytest.mark.parametrize(("architecture", "extra"), [
    ("gru-tied", ()),  # random windows; dropout exercises torch's RNG
    ("lstm", ("train.stateful=true",)),  # carried (h, c) must be restored too
])
def test_interrupted_and_resumed_run_logs_the_same_losses(registry, small_corpus, tmp_path,
                                                          architecture, extra):
    config = _config(registry, small_corpus, architecture, *extra)
    quiet = {"progress": False, "log": lambda _: None}
    train_run(registry, config, tmp_path / "straight", **quiet)

    with pytest.raises(TrainingInterrupted) as interrupted:
        train_run(registry, config, tmp_path / "resumed", on_step=_interrupt_at(7), **quiet)
    assert interrupted.value.checkpoint_step == 4
    assert max(m["step"] for m in read_metrics(tmp_path / "resumed")) == 6
    train_run(registry, config, tmp_path / "resumed", resume=True, **quiet)

    def losses(run):
        return [(m["step"], m["split"], m["loss"]) for m in read_metrics(tmp_path / run)]

    assert losses("resumed") == losses("straight")
    elapsed = [m["elapsed_s"] for m in read_metrics(tmp_path / "resumed")]
    assert elapsed == sorted(elapsed)  # wall time continues across the interruption
    assert len(losses("straight")) == 6 + 3  # train records every 2 steps, val every 4


def test_resumed_log_is_exact_when_the_checkpoint_is_inside_a_log_window(registry, small_corpus,
                                                                         tmp_path):
    # checkpoints at 3, 6, 9, 12; train records at 4, 8, 12: the resumed run's record of
    # step 8 must average steps 5-8, as the uninterrupted run's does, not steps 7-8 alone
    config = _config(registry, small_corpus, "gru-tied", "train.eval_interval=3",
                     "train.log_interval=4")
    quiet = {"progress": False, "log": lambda _: None}
    train_run(registry, config, tmp_path / "straight", **quiet)
    with pytest.raises(TrainingInterrupted) as interrupted:
        train_run(registry, config, tmp_path / "resumed", on_step=_interrupt_at(8), **quiet)
    assert interrupted.value.checkpoint_step == 6
    train_run(registry, config, tmp_path / "resumed", resume=True, **quiet)

    def losses(run):
        return [(m["step"], m["split"], m["loss"]) for m in read_metrics(tmp_path / run)]

    assert losses("resumed") == losses("straight")
    assert [step for step, split, _ in losses("straight") if split == "train"] == [4, 8, 12]


def test_a_checkpoint_whose_record_was_not_appended_gets_it_back_on_resume(registry, run_copy):
    # a kill after checkpoint 8 was written but before its val record was appended
    metrics = run_copy / "metrics.jsonl"
    lines = metrics.read_text().splitlines(keepends=True)
    last_val = max(i for i, line in enumerate(lines) if json.loads(line)["split"] == "val")
    record = json.loads(lines[last_val])
    metrics.write_text("".join(lines[:last_val]))
    config = resumed_run_config(registry, run_copy, {"steps": 10})
    train_run(registry, config, run_copy, resume=True, progress=False, log=lambda _: None)
    assert record in read_metrics(run_copy)
    assert [m["step"] for m in read_metrics(run_copy) if m["split"] == "val"] == [4, 8, 10]


def test_resume_through_the_cli_can_extend_steps(runner, registry, trained_run, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(trained_run, run)
    result = runner.invoke(cli, ["train", "gru-tied", "--resume", str(run), "--steps", "10",
                                 "--no-progress"], obj=registry)
    assert result.exit_code == 0, result.output
    assert [m["step"] for m in read_metrics(run) if m["split"] == "val"] == [4, 8, 10]


def test_resume_refuses_settings_the_run_fixes(runner, registry, trained_run):
    result = runner.invoke(cli, ["train", "gru-tied", "--resume", str(trained_run),
                                 "--lr", "0.1"], obj=registry)
    assert "drop --lr" in one_line_error(result)


def test_resume_refuses_another_architecture(runner, registry, trained_run):
    result = runner.invoke(cli, ["train", "lstm", "--resume", str(trained_run)], obj=registry)
    assert "trains 'gru-tied', not 'lstm'" in one_line_error(result)


@pytest.fixture
def run_copy(trained_run, tmp_path):
    """A private copy of the session's trained run (8 of 8 steps, checkpoints at 4 and 8)."""
    import shutil

    return shutil.copytree(trained_run, tmp_path / "copy")


@pytest.mark.parametrize("overrides", [
    {"train.steps": 12, "train.device": "cpu"}, {"steps": 12}, ["train.steps=12"],
])
def test_resumed_config_changes_only_steps_and_device(registry, run_copy, overrides):
    before = (run_copy / "config.json").read_bytes()
    config = resumed_run_config(registry, run_copy, overrides, architecture="gru-tied")
    assert config.train.steps == 12 and config.train.device == "cpu"
    assert config.model.config.hidden == 48  # the rest is the run's own
    assert (run_copy / "config.json").read_bytes() == before  # nothing is written yet


@pytest.mark.parametrize(("overrides", "culprit"), [
    ({"train.lr": 0.1}, "train.lr"), ({"lr": 0.1}, "train.lr"),
    (["model.hidden=64"], "model.hidden"), (["train.steps=12", "train.seed=3"], "train.seed"),
])
def test_resumed_config_refuses_what_the_run_fixes(registry, run_copy, overrides, culprit):
    with pytest.raises(ZooError) as error:
        resumed_run_config(registry, run_copy, overrides)
    assert str(error.value).startswith(f"{culprit} may not change when resuming")
    assert "only train.steps, train.device and train.threads may change" in str(error.value)


def test_resumed_config_refuses_another_architecture(registry, run_copy):
    with pytest.raises(ZooError, match="trains 'gru-tied', not 'lstm'; use zoo train gru-tied"):
        resumed_run_config(registry, run_copy, {"steps": 12}, architecture="lstm")


@pytest.mark.parametrize("steps", [None, 8, 5])
def test_resuming_without_steps_left_is_an_error(registry, run_copy, steps):
    overrides = {} if steps is None else {"steps": steps}
    with pytest.raises(ZooError) as error:
        resumed_run_config(registry, run_copy, overrides)
    total = 8 if steps is None else steps
    assert str(error.value) == (f"run {str(run_copy)!r} is already at step 8 of {total}; "
                                "give --steps above 8")


def test_the_loop_also_refuses_a_run_without_steps_left(registry, run_copy):
    before = {name: (run_copy / name).read_bytes() for name in ("config.json", "metrics.jsonl")}
    config = RunConfig.from_dict(registry, read_config(run_copy))  # 8 steps, and at step 8
    with pytest.raises(ZooError, match="already at step 8 of 8"):
        train_run(registry, config, run_copy, resume=True, progress=False, log=lambda _: None)
    assert before == {name: (run_copy / name).read_bytes() for name in before}


def test_a_failed_resume_leaves_the_run_as_it_was(registry, run_copy):
    config = resumed_run_config(registry, run_copy, {"steps": 12})
    resume_state = run_copy / "resume.safetensors"
    resume_state.write_bytes(resume_state.read_bytes()[:100])  # a damaged resume state
    files = ("config.json", "metrics.jsonl", "model.safetensors")
    before = {name: (run_copy / name).read_bytes() for name in files}
    with pytest.raises(ZooError, match="damaged"):
        train_run(registry, config, run_copy, resume=True, progress=False, log=lambda _: None)
    assert before == {name: (run_copy / name).read_bytes() for name in files}


def test_a_resumed_run_saves_its_new_config(registry, run_copy):
    config = resumed_run_config(registry, run_copy, {"steps": 10})
    train_run(registry, config, run_copy, resume=True, progress=False, log=lambda _: None)
    saved = json.loads((run_copy / "config.json").read_text())
    assert saved["train"]["steps"] == 10 and saved["providers"]["model"]
    assert [m["step"] for m in read_metrics(run_copy) if m["split"] == "val"] == [4, 8, 10]


def test_no_evaluation_is_recorded_before_its_checkpoint_exists(registry, run_copy, monkeypatch):
    """A checkpoint write that fails (here at step 12) leaves no val record of step 12."""
    import errno

    import zoo.training.checkpointing

    real_save = zoo.training.checkpointing.save_checkpoint

    def save_checkpoint(run_dir, model, step):
        if step == 12:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(run_dir, model, step)

    monkeypatch.setattr(zoo.training.checkpointing, "save_checkpoint", save_checkpoint)
    config = resumed_run_config(registry, run_copy, {"steps": 12})
    with pytest.raises(OSError):
        train_run(registry, config, run_copy, resume=True, progress=False, log=lambda _: None)
    val_steps = [m["step"] for m in read_metrics(run_copy) if m["split"] == "val"]
    assert val_steps == [4, 8]  # checkpoint 12 failed, so its evaluation is not recorded
    assert zoo.load(run_copy).step == 8


def test_a_resume_state_of_another_size_names_the_run_both_shapes_and_the_way_out(
        registry, run_copy):
    """A resume.safetensors from a wider model is refused before any of it is loaded."""
    import dataclasses

    import torch

    from zoo.registry.factory import build_model
    from zoo.training.resume import check_resume_fits, load_resume_state

    choice = resumed_run_config(registry, run_copy, {"steps": 16}).model
    vocab = read_config(run_copy)["vocab_size"]
    wider = build_model(registry, dataclasses.replace(
        choice, config=dataclasses.replace(choice.config, hidden=64)), vocab)
    state = load_resume_state(run_copy, torch.device("cpu"))
    with pytest.raises(ZooError) as refused:
        check_resume_fits(run_copy, state, wider)
    assert str(refused.value) == (
        f"run {str(run_copy)!r}: resume.safetensors does not fit the model config.json "
        "describes (gru.weight_ih_l0 is [144, 32] in resume.safetensors, [192, 32] in the "
        "model); restore the run's resume.safetensors from a copy, or start a new run from its "
        f"model.safetensors: zoo train gru-tied --init-from {run_copy} --out NEW_RUN")
    check_resume_fits(run_copy, state, build_model(registry, choice, vocab))  # its own fits


def test_a_resume_state_missing_a_tensor_of_the_model_is_refused(registry, run_copy):
    import torch

    from zoo.registry.factory import build_model
    from zoo.training.resume import check_resume_fits, load_resume_state

    choice = resumed_run_config(registry, run_copy, {"steps": 16}).model
    state = load_resume_state(run_copy, torch.device("cpu"))
    del state.model["gru.bias_hh_l1"]
    with pytest.raises(ZooError, match=r"the model's gru.bias_hh_l1 \[144\] is missing from "
                                       r"resume.safetensors"):
        check_resume_fits(run_copy, state,
                          build_model(registry, choice, read_config(run_copy)["vocab_size"]))
