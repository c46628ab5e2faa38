"""Device choice, bf16 autocast and DDP placement: the GPU logic, checked on the CPU."""

from __future__ import annotations

import pytest
import torch

import zoo.models.devices
from zoo.errors import ZooError
from zoo.models.devices import autocast_dtype, resolve_device
from zoo.training.distributed import DistributedContext


def test_auto_falls_back_to_cpu_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")


@pytest.mark.parametrize("name", ["cuda", "cuda:1", "mps"])
def test_missing_accelerator_is_a_clear_error(monkeypatch, name):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ZooError, match="use --device auto"):
        resolve_device(name)


def test_unknown_device_name():
    with pytest.raises(ZooError, match="unknown device 'tpu'"):
        resolve_device("tpu")


@pytest.mark.parametrize("device, precision, cuda_bf16, cpu_bf16, expected", [
    ("cuda", "auto", True, False, torch.bfloat16),
    ("cuda", "auto", False, False, None),
    ("cuda", "bfloat16", False, False, torch.bfloat16),
    ("cuda", "float32", True, True, None),
    ("cpu", "auto", False, True, torch.bfloat16),
    ("cpu", "auto", False, False, None),
    ("cpu", "bfloat16", False, False, torch.bfloat16),
    ("cpu", "float32", True, True, None),
    ("mps", "auto", True, True, None),
    ("mps", "float32", True, True, None),
])
def test_precision_chooses_the_autocast_dtype(monkeypatch, device, precision, cuda_bf16,
                                              cpu_bf16, expected):
    """``auto`` autocasts only where the hardware computes bfloat16 natively."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: cuda_bf16)
    monkeypatch.setattr(zoo.models.devices, "cpu_computes_bfloat16", lambda: cpu_bf16)
    assert autocast_dtype(torch.device(device), precision) is expected


def test_bfloat16_on_mps_is_a_clear_error():
    with pytest.raises(ZooError, match="not mps; use --set train.precision=auto"):
        autocast_dtype(torch.device("mps"), "bfloat16")


def test_the_cpu_probe_answers_without_raising():
    assert isinstance(zoo.models.devices.cpu_computes_bfloat16(), bool)


def test_torchrun_environment_gives_each_rank_its_gpu(monkeypatch):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    context = DistributedContext.from_environment()
    assert (context.rank, context.local_rank, context.world_size) == (3, 1, 4)
    assert not context.is_main and context.enabled
    assert context.device(torch.device("cuda")) == torch.device("cuda", 1)
    assert context.device(torch.device("cpu")) == torch.device("cpu")


def test_single_process_outside_torchrun(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    context = DistributedContext.from_environment()
    assert context.is_main and not context.enabled
    tensor = torch.ones(2)
    assert context.sum(tensor).tolist() == [1.0, 1.0]


def _tiny_config(registry, corpus, *extra):
    from zoo.config.run import build_run_config

    return build_run_config(
        registry, {"model": {"name": "gru-tied"}, "dataset": {"name": "text"}},
        ["model.embed=16", "model.hidden=16", "train.steps=4", "train.batch_size=2",
         "train.block_size=16", "train.eval_interval=4", "train.eval_batches=1",
         "train.device=cpu", f"dataset.path={corpus}", *extra],
    )


def _train_recording_dtypes(registry, corpus, run_dir, monkeypatch, *extra):
    """Train a tiny run; return the logits dtypes of its training and evaluation steps,
    its start lines and its result."""
    import zoo.training.evaluation
    import zoo.training.loop
    import zoo.training.steps
    from zoo.training.loop import train_run

    seen: dict[str, list[torch.dtype]] = {"train": [], "eval": []}
    original = zoo.training.steps.batch_loss

    def spy(kind):
        def recording_batch_loss(model, inputs, targets, state=None):
            loss, logits, new_state = original(model, inputs, targets, state)
            seen[kind].append(logits.dtype)
            return loss, logits, new_state
        return recording_batch_loss

    monkeypatch.setattr(zoo.training.loop, "batch_loss", spy("train"))
    monkeypatch.setattr(zoo.training.evaluation, "batch_loss", spy("eval"))
    lines: list[str] = []
    result = train_run(registry, _tiny_config(registry, corpus, *extra), run_dir,
                       progress=False, log=lines.append)
    return seen, lines, result


def test_bfloat16_precision_trains_under_autocast_and_evaluates_in_float32(
        registry, small_corpus, tmp_path, monkeypatch):
    """The autocast path (CUDA's, and CPUs' with native bfloat16) run on this CPU."""
    seen, lines, result = _train_recording_dtypes(registry, small_corpus, tmp_path / "bf16",
                                                  monkeypatch, "train.precision=bfloat16")
    assert seen["train"] and set(seen["train"]) == {torch.bfloat16}
    assert seen["eval"] and set(seen["eval"]) == {torch.float32}
    assert "bfloat16 autocast" in lines[0]
    assert torch.isfinite(torch.tensor(result.final_eval["loss"]))


def test_float32_precision_never_autocasts(registry, small_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(zoo.models.devices, "cpu_computes_bfloat16", lambda: True)
    seen, lines, _ = _train_recording_dtypes(registry, small_corpus, tmp_path / "fp32",
                                             monkeypatch, "train.precision=float32")
    assert set(seen["train"]) == set(seen["eval"]) == {torch.float32}
    assert "autocast" not in lines[0]


def test_auto_precision_follows_the_cpu(registry, small_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(zoo.models.devices, "cpu_computes_bfloat16", lambda: False)
    seen, _, _ = _train_recording_dtypes(registry, small_corpus, tmp_path / "plain",
                                         monkeypatch)
    assert set(seen["train"]) == {torch.float32}
    monkeypatch.setattr(zoo.models.devices, "cpu_computes_bfloat16", lambda: True)
    seen, _, _ = _train_recording_dtypes(registry, small_corpus, tmp_path / "native",
                                         monkeypatch)
    assert set(seen["train"]) == {torch.bfloat16}


def test_compile_flag_trains_through_torch_compile(registry, small_corpus, tmp_path,
                                                    monkeypatch):
    from zoo.training.loop import train_run

    compiled = []
    real_compile = torch.compile

    def counting_compile(model, **kwargs):
        compiled.append(type(model).__name__)
        return real_compile(model, backend="eager", **kwargs)  # no C++ build on CI

    monkeypatch.setattr(torch, "compile", counting_compile)
    config = _tiny_config(registry, small_corpus, "train.compile=true")
    result = train_run(registry, config, tmp_path / "compiled", progress=False,
                       log=lambda _: None)
    assert compiled == ["GRUTied"]
    assert result.steps == 4
