"""Evaluate, record, checkpoint: what the training loop does at every evaluation point.

A checkpoint is ``model.safetensors`` (the weights, for sampling and export)
and ``resume.safetensors`` (everything ``--resume`` needs), each replaced
atomically, so a crash at any moment leaves the last good checkpoint. The
evaluation's record goes to ``metrics.jsonl`` only once its checkpoint
exists (the resume state carries a copy, so a kill in between loses
nothing), and a new run's staged directory takes its name at its first.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from zoo.config.training import TrainConfig
from zoo.data.batches import evaluation_batches
from zoo.data.streams import TokenStream
from zoo.files.paths import StagedDirectory
from zoo.models.loading import save_checkpoint
from zoo.training.distributed import DistributedContext
from zoo.training.evaluation import evaluate_batches
from zoo.training.progress import TrainingProgress
from zoo.training.resume import save_resume_state
from zoo.training.steps import State


class Checkpoints:
    """The evaluation points of one run, and the step of its last checkpoint."""

    def __init__(
        self,
        directory: StagedDirectory,
        *,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        sampler: Any,
        val: TokenStream,
        train: TrainConfig,
        device: torch.device,
        distributed: DistributedContext,
        progress: TrainingProgress,
        start_step: int,
        rows: str = "packed",
    ) -> None:
        self.directory, self.model, self.optimizer = directory, model, optimizer
        self.rows = rows  # how the dataset's documents are trained (zoo.data.documents)
        self.sampler = sampler
        self.val, self.train, self.device = val, train, device
        self.distributed, self.progress = distributed, progress
        self.step = start_step  # of the last checkpoint on disk (published or not yet); 0: none
        # the validation windows, found once: all of a small split, else eval_batches' worth
        self.val_batches = evaluation_batches(val, train.block_size, train.batch_size,
                                              train.eval_batches, distributed.rank,
                                              distributed.world_size, rows)

    def evaluate_and_save(self, step: int, carry: State | None) -> dict[str, float]:
        """Evaluate on the fixed validation windows (all of a small split: see
        :func:`zoo.data.batches.evaluation_batches`), checkpoint ``step``, then record it.

        Every rank evaluates its share; rank 0 alone writes. The first
        checkpoint of a new run publishes its directory under its name.
        """
        started = time.perf_counter()
        dist = self.distributed
        evaluation = evaluate_batches(self.model, self.val_batches, self.val, self.device, dist)
        record = self.progress.evaluation_record(step, evaluation)
        if dist.is_main:
            run_dir = self.directory.path
            save_resume_state(run_dir, step=step, model=self.model, optimizer=self.optimizer,
                              sampler=self.sampler.state_dict(), carry=carry,
                              progress={"record": record,
                                        "log_window": self.progress.log_window()})
            save_checkpoint(run_dir, self.model, step)
        self.step = step
        self.progress.log_evaluation(record)
        if dist.is_main:
            self.directory.publish()
        self.progress.leave_out(time.perf_counter() - started)
        return evaluation

    def kept_step(self) -> int:
        """The step of the checkpoint an interruption now leaves the user: the last one
        saved once the run's directory is under its name, else none (0; the staged
        directory is discarded). Whether the directory is published is asked of it, so a
        signal between the checkpoint and the publishing tells the truth either way."""
        return self.step if self.directory.published else 0
