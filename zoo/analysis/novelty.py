"""makemore's novelty figure: how many samples are new, and how many the model has seen.

torch-free: it compares texts with the documents of the run's dataset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Novelty:
    """How many of ``samples`` are documents of the training or validation split, or new."""

    samples: int
    in_train: int  # equal to a training document
    in_val: int  # equal to a validation document and to no training one
    new: int  # equal to no document of either split

    def __str__(self) -> str:
        return (f"novelty: {self.new} of {self.samples} samples are new; {self.in_train} are "
                f"in the training set, {self.in_val} in the validation set")


def novelty(samples: Sequence[str], train: Iterable[str], val: Iterable[str] = ()) -> Novelty:
    """Count ``samples`` found among the ``train`` and ``val`` documents, compared whole
    (surrounding whitespace ignored, as a line-per-item file's documents are)."""
    train_set = {document.strip() for document in train}
    val_set = {document.strip() for document in val} - train_set
    found = [sample.strip() for sample in samples]
    in_train = sum(sample in train_set for sample in found)
    in_val = sum(sample in val_set for sample in found)
    return Novelty(len(found), in_train, in_val, len(found) - in_train - in_val)
