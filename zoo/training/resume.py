"""Resuming a run: its config, its resume state, and where training picks up.

:func:`resumed_run_config` is the run's own config with only ``train.steps``
and ``train.device`` changed; it writes nothing. :func:`restore_training_state`
loads the last checkpoint into the model, optimizer, batch sampler and random
generators, and the training loop saves the new config only after that has
succeeded, so a resume that fails leaves the run as it was.

The resume state is one file, ``resume.safetensors``, written atomically at every checkpoint, so
the model, the optimizer and the random generators in it always belong to
the same step:

    model.*          the weights
    optimizer.I.K    tensor K (exp_avg, exp_avg_sq, step) of parameter I
    rng.torch        torch's CPU generator state; rng.cuda.N for each GPU
    carry.I          the hidden state carried across batches (--stateful)

and, in the metadata, as JSON: the step, the optimizer's param groups, the
batch sampler's state, and the progress log's state: the checkpoint's own
``metrics.jsonl`` record (written to the log only after the checkpoint, and
put back on resume if a kill came in between) and the log window still open
(its summed loss and steps, so the first record after a resume averages the
same steps as an uninterrupted run's).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from zoo.config.run import RunConfig, build_run_config
from zoo.config.training import TrainConfig
from zoo.config.values import parse_overrides
from zoo.errors import ZooError
from zoo.files import atomic
from zoo.files.reading import reading
from zoo.models.fitting import first_misfit, model_shapes
from zoo.registry.host import Registry
from zoo.runs.pretrained import installed_model_at, read_only_error
from zoo.runs.run_directory import (
    CONFIG_FILE,
    METRICS_FILE,
    MODEL_FILE,
    check_components_installed,
    read_config,
    read_metrics,
)
from zoo.version import __version__

RESUME_FILE = "resume.safetensors"
#: What a resumed run may change; everything else is fixed by the run.
RESUMABLE = ("train.steps", "train.device", "train.threads")


@dataclass
class ResumeState:
    """What was read back from ``resume.safetensors``."""

    step: int
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    sampler: dict[str, Any]
    torch_rng: torch.Tensor
    cuda_rng: list[torch.Tensor] = field(default_factory=list)
    carry: tuple[torch.Tensor, ...] | None = None


def save_resume_state(
    run_dir: Path,
    *,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    sampler: dict[str, Any],
    carry: tuple[torch.Tensor, ...] | None,
    progress: dict[str, Any] | None = None,
) -> None:
    """Write ``resume.safetensors`` atomically: everything ``--resume`` needs to continue."""
    # Cloned, so that tied weights become separate entries safetensors accepts; loading
    # both names writes the same values into the one shared parameter.
    tensors = {f"model.{name}": t.detach().clone() for name, t in model.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    for index, values in optimizer_state["state"].items():
        for key, value in values.items():
            tensors[f"optimizer.{index}.{key}"] = torch.as_tensor(value).detach()
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = state
    for index, tensor in enumerate(carry or ()):
        tensors[f"carry.{index}"] = tensor.detach()
    metadata = {
        "step": str(step),
        "zoo_version": __version__,
        "param_groups": json.dumps(optimizer_state["param_groups"]),
        "sampler": json.dumps(sampler),
        "carry": str(len(carry) if carry is not None else -1),
        "progress": json.dumps(progress or {}),
    }
    contiguous = {k: v.contiguous().cpu() for k, v in tensors.items()}
    # a full disk leaves the last resume state as it was: an OSError names the file
    with atomic.atomic_path(run_dir / RESUME_FILE) as temp:
        save_file(contiguous, str(temp), metadata=metadata)


def resume_file(run_dir: Path) -> Path:
    """The run's ``resume.safetensors``, or a ZooError saying why it has none."""
    path = Path(run_dir) / RESUME_FILE
    if not path.exists():
        raise ZooError(
            f"run {str(run_dir)!r} has no {RESUME_FILE}: it never reached a checkpoint, "
            "or was written by a zoo without --resume support"
        )
    return path


def checkpoint_step(run_dir: Path) -> int:
    """The step of the run's last checkpoint, read from the resume state's header alone."""
    path = resume_file(run_dir)
    with reading(path, "the resume state", resume_recovery(run_dir)), \
            safe_open(str(path), framework="pt") as handle:
        return int((handle.metadata() or {})["step"])


def resume_recovery(run_dir: Path) -> str:
    """What to do about a damaged ``resume.safetensors``."""
    return (f"restore it from a copy; {MODEL_FILE} still samples and exports, "
            f"but resuming needs a new run (zoo train ... --out) or the restored file")


def check_steps_left(run_dir: Path, step: int, train: TrainConfig, elapsed_s: float, *,
                     steps_given: bool) -> None:
    """Refuse to resume a run at ``step`` that has already reached its end: its steps, or
    its time budget (spent in ``elapsed_s``) unless new steps are ``steps_given``."""
    limit = train.step_limit
    if limit is not None and step >= limit:
        raise ZooError(f"run {str(run_dir)!r} is already at step {step} of {limit}; "
                       f"give --steps above {step}")
    if 0 < train.max_seconds <= elapsed_s and not steps_given:
        raise ZooError(f"run {str(run_dir)!r} has used its {train.max_seconds:g} s budget "
                       f"(train.max_seconds) at step {step}; give --steps above {step} to "
                       "train it further")


def checkpoint_elapsed(run_dir: Path, step: int) -> float:
    """Seconds the run had trained at its last checkpoint, ``step`` (what its time budget
    has spent): its record's, saved with the checkpoint, else the log's."""
    record = checkpoint_progress(run_dir).get("record") or {}
    if "elapsed_s" in record:
        return float(record["elapsed_s"])
    return max((float(m["elapsed_s"]) for m in read_metrics(run_dir)
                if m["step"] <= step and "elapsed_s" in m), default=0.0)


def load_resume_state(run_dir: Path, device: torch.device) -> ResumeState:
    """Read ``resume.safetensors``, putting the weights and carried state on ``device``.

    A truncated or foreign file is a ZooError naming it and the way to recover.
    """
    path = resume_file(run_dir)
    with reading(path, "the resume state", resume_recovery(run_dir)):
        return _read_resume_state(path, device)


def _read_resume_state(path: Path, device: torch.device) -> ResumeState:

    model: dict[str, torch.Tensor] = {}
    optimizer_state: dict[int, dict[str, torch.Tensor]] = {}
    cuda: dict[int, torch.Tensor] = {}
    carry: dict[int, torch.Tensor] = {}
    torch_rng = torch.get_rng_state()
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        for key in handle.keys():  # noqa: SIM118 - safe_open is not a mapping
            tensor = handle.get_tensor(key)
            kind, _, rest = key.partition(".")
            if kind == "model":
                model[rest] = tensor.to(device)
            elif kind == "optimizer":
                index, _, name = rest.partition(".")
                optimizer_state.setdefault(int(index), {})[name] = tensor
            elif key == "rng.torch":
                torch_rng = tensor
            elif kind == "rng":
                cuda[int(rest.rpartition(".")[2])] = tensor
            elif kind == "carry":
                carry[int(rest)] = tensor.to(device)
    optimizer = {
        "state": optimizer_state,
        "param_groups": json.loads(metadata["param_groups"]),
    }
    carried = tuple(carry[i] for i in sorted(carry)) if int(metadata["carry"]) >= 0 else None
    return ResumeState(
        step=int(metadata["step"]),
        model=model,
        optimizer=optimizer,
        sampler=json.loads(metadata["sampler"]),
        torch_rng=torch_rng,
        cuda_rng=[cuda[i] for i in sorted(cuda)],
        carry=carried,
    )


def resumed_run_config(
    registry: Registry,
    run_dir: str | Path,
    overrides: Mapping[str, Any] | list[str] | tuple[str, ...] = (),
    architecture: str | None = None,
) -> RunConfig:
    """The config of the run in ``run_dir`` for resuming it, with ``overrides`` applied.

    ``overrides`` is ``{"train.steps": 2400}`` (``{"steps": 2400}`` means the
    same) or ``--set`` strings (``["train.steps=2400"]``); only ``train.steps``
    and ``train.device`` may change. ``architecture``, when given, must be the
    run's. Refuses a run already at its (new) ``train.steps``, or at the end of its
    time budget unless given new steps (it then trains to them). Writes nothing.
    """
    run_dir = Path(run_dir)
    installed = installed_model_at(registry, run_dir)
    if installed is not None:  # however it was named: its name, or its path in site-packages
        raise read_only_error(installed)
    raw = read_config(run_dir)
    check_components_installed(registry, raw)
    trained = raw["model"]["name"]
    if architecture is not None and architecture != trained:
        raise ZooError(f"run {str(run_dir)!r} trains {trained!r}, not {architecture!r}; "
                       f"use zoo train {trained} --resume {run_dir}")
    changes = _dotted(overrides)
    fixed = [key for key in changes if key not in RESUMABLE]
    if fixed:
        raise ZooError(f"{', '.join(fixed)} may not change when resuming {str(run_dir)!r}; "
                       f"a run keeps its own settings, only {', '.join(RESUMABLE[:-1])} and "
                       f"{RESUMABLE[-1]} may change")
    train = {**raw["train"], **{key.partition(".")[2]: value for key, value in changes.items()}}
    run_config = build_run_config(registry, {**raw, "train": train})
    step = checkpoint_step(run_dir)
    check_steps_left(run_dir, step, run_config.train, checkpoint_elapsed(run_dir, step),
                     steps_given="train.steps" in changes)
    return run_config


def _dotted(overrides: Mapping[str, Any] | list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``section.key`` -> value, from a mapping (a bare key is a train key) or ``--set`` strings."""
    if isinstance(overrides, Mapping):
        return {key if "." in key else f"train.{key}": value for key, value in overrides.items()}
    parsed = parse_overrides(list(overrides))
    return {f"{section}.{key}": value for section, values in parsed.items()
            for key, value in values.items()}


@dataclass(frozen=True)
class ResumePoint:
    """Where training starts: step 0 of a new run, or a resumed run's last checkpoint."""

    step: int = 0
    carry: tuple[torch.Tensor, ...] | None = None  # the hidden state a --stateful run carried
    elapsed_s: float = 0.0  # wall time the run had already trained
    log_window: dict[str, Any] | None = None  # the open log window (TrainingProgress.log_window)


def restore_training_state(
    run_dir: Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    sampler: Any,
    device: torch.device,
    train: TrainConfig,
    is_main: bool = True,
) -> ResumePoint:
    """Continue exactly where the last checkpoint stopped: state in, later metrics out.

    Loads the weights, the AdamW moments, the batch sampler and torch's random
    generators; then (rank 0) drops the metrics recorded after the checkpoint,
    which the resumed run logs again. Nothing is changed unless it all loads.
    """
    state = load_resume_state(run_dir, device)
    check_steps_left(run_dir, state.step, train, checkpoint_elapsed(run_dir, state.step),
                     steps_given=train.steps is not None)
    check_resume_fits(run_dir, state, model)
    # anything else that does not fit (an optimizer state of another shape) is a damaged file
    with reading(resume_file(run_dir), "the resume state", resume_recovery(run_dir)):
        model.load_state_dict(state.model)
        optimizer.load_state_dict(state.optimizer)
        sampler.load_state_dict(state.sampler)
    torch.set_rng_state(state.torch_rng)
    if state.cuda_rng and device.type == "cuda":
        torch.cuda.set_rng_state_all(state.cuda_rng)
    progress = checkpoint_progress(run_dir)
    if is_main:
        truncate_metrics(run_dir, state.step, progress.get("record"))
    # wall time keeps counting from where the interrupted run stopped
    elapsed = max((m["elapsed_s"] for m in read_metrics(run_dir)), default=0.0)
    return ResumePoint(state.step, state.carry, elapsed, progress.get("log_window"))


def check_resume_fits(run_dir: Path, state: ResumeState, model: torch.nn.Module) -> None:
    """Refuse a resume state whose weights are another model's (a ``resume.safetensors``
    copied from a run of another size), naming the first tensor that does not fit."""
    misfit = first_misfit(model_shapes(model), {name: list(tensor.shape)
                                                for name, tensor in state.model.items()},
                          RESUME_FILE)
    if misfit is None:
        return
    architecture = read_config(run_dir)["model"]["name"]
    raise ZooError(f"run {str(run_dir)!r}: {RESUME_FILE} does not fit the model {CONFIG_FILE} "
                   f"describes ({misfit}); restore the run's {RESUME_FILE} from a copy, or start "
                   f"a new run from its {MODEL_FILE}: zoo train {architecture} --init-from "
                   f"{run_dir} --out NEW_RUN")


def checkpoint_progress(run_dir: Path) -> dict[str, Any]:
    """The progress log's state saved with the last checkpoint; empty for older runs."""
    with safe_open(str(resume_file(run_dir)), framework="pt") as handle:
        saved: dict[str, Any] = json.loads((handle.metadata() or {}).get("progress", "{}"))
    return saved


def truncate_metrics(run_dir: Path, step: int, record: dict[str, Any] | None = None) -> None:
    """Make ``metrics.jsonl`` end at checkpoint ``step``, whose evaluation ``record`` it holds.

    Records after ``step`` are dropped (a resumed run logs those steps again),
    and the checkpoint's own record is put back if a kill came before it was
    appended.
    """
    kept = [r for r in read_metrics(run_dir) if r["step"] <= step]
    if record is not None and not any(r["step"] == step and r["split"] == "val" for r in kept):
        kept.append(record)
    atomic.write_text(Path(run_dir) / METRICS_FILE,
                      "".join(json.dumps(r) + "\n" for r in kept))
