"""Device choice, bf16 autocast and DDP placement: the GPU logic, checked on the CPU."""

from __future__ import annotations

import pytest
import torch

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


def test_bf16_autocast_only_on_cuda_that_supports_it(monkeypatch):
    assert autocast_dtype(torch.device("cpu")) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert autocast_dtype(torch.device("cuda")) is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert autocast_dtype(torch.device("cuda")) is None


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


def test_the_bf16_autocast_path_trains(registry, small_corpus, tmp_path, monkeypatch):
    """The CUDA autocast branch, run on the CPU (which supports bf16 autocast too)."""
    import zoo.training.steps
    from zoo.training.loop import train_run

    monkeypatch.setattr(zoo.training.steps, "autocast_dtype", lambda device: torch.bfloat16)
    seen = []
    original = zoo.training.steps.batch_loss

    def spy(model, inputs, targets, state=None):
        loss, logits, new_state = original(model, inputs, targets, state)
        seen.append(logits.dtype)
        return loss, logits, new_state

    monkeypatch.setattr("zoo.training.loop.batch_loss", spy)
    result = train_run(registry, _tiny_config(registry, small_corpus), tmp_path / "bf16",
                       progress=False, log=lambda _: None)
    assert seen and set(seen) == {torch.bfloat16}
    assert torch.isfinite(torch.tensor(result.final_eval["loss"]))


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
