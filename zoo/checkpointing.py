"""Evaluate, record, checkpoint: what the training loop does at every evaluation point.

A checkpoint is ``model.safetensors`` (the weights, for sampling and export)
and ``resume.safetensors`` (everything ``--resume`` needs), each replaced
atomically, so a crash at any moment leaves the last good checkpoint.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from zoo import runs
from zoo.config import TrainConfig
from zoo.data import TokenStream, evaluation_batches
from zoo.distributed import DistributedContext
from zoo.evaluation import evaluate_batches
from zoo.progress import TrainingProgress
from zoo.resume import save_resume_state
from zoo.steps import State


class Checkpoints:
    """The evaluation points of one run, and the step of its last checkpoint."""

    def __init__(
        self,
        run_dir: Path,
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
    ) -> None:
        self.run_dir, self.model, self.optimizer, self.sampler = run_dir, model, optimizer, sampler
        self.val, self.train, self.device = val, train, device
        self.distributed, self.progress = distributed, progress
        self.step = start_step  # of the last checkpoint; 0 when none was written

    def evaluate_and_save(self, step: int, carry: State | None) -> dict[str, float]:
        """Evaluate on the fixed validation windows, record it, and checkpoint ``step``.

        Every rank evaluates its share; rank 0 alone writes.
        """
        started = time.perf_counter()
        dist, train = self.distributed, self.train
        batches = evaluation_batches(self.val, train.block_size, train.batch_size,
                                     train.eval_batches, dist.rank, dist.world_size)
        evaluation = evaluate_batches(self.model, batches, self.val, self.device, dist)
        self.progress.log_evaluation(step, evaluation)
        if dist.is_main:
            save_resume_state(self.run_dir, step=step, model=self.model, optimizer=self.optimizer,
                              sampler=self.sampler.state_dict(), carry=carry)
            runs.save_checkpoint(self.run_dir, self.model, step)
        self.step = step
        self.progress.leave_out(time.perf_counter() - started)
        return evaluation
