"""Scoring documents with a PyTorch model: the backend of ``Run.score`` (see
:mod:`zoo.analysis.scoring` for what is scored and how)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from zoo.analysis.scoring import Reader, length_groups, surprisal

#: The most logits one forward pass hands back (rows x tokens x vocabulary), so that a big
#: vocabulary or long documents take smaller batches rather than a big buffer.
MAX_LOGITS = 4_000_000
#: The most documents one forward pass reads.
MAX_ROWS = 64


def model_reader(model: torch.nn.Module, chunk: int, vocab_size: int) -> Reader:
    """A :data:`~zoo.analysis.scoring.Reader` over ``model`` (in eval mode).

    Documents of similar length are read as one batch, right-padded (a causal
    model's earlier positions never see the padding), ``chunk`` tokens at a
    time with the state carried from chunk to chunk: the run's training block
    size, which bounds the transformer's attention to ``chunk`` queries over its
    cache. Logits are float32, with no autocast, so a run and its export give
    the same numbers.
    """

    @torch.inference_mode()
    def read(rows: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        device = _device(model)
        read_back: list[tuple[np.ndarray, np.ndarray]] = [
            (np.zeros(0), np.zeros(0, dtype=np.int64))] * len(rows)
        lengths = [max(len(row) - 1, 0) for row in rows]  # predicted tokens of each
        for group in _batches(lengths, chunk, vocab_size):
            width = max(lengths[index] for index in group)
            if width == 0:
                continue
            inputs = np.zeros((len(group), width), dtype=np.int64)  # (B, T), padded with 0
            targets = np.full((len(group), width), -1, dtype=np.int64)  # (B, T), padding -1
            for line, index in enumerate(group):
                row = rows[index]
                inputs[line, : lengths[index]] = row[:-1]
                targets[line, : lengths[index]] = row[1:]
            nats = np.zeros((len(group), width))
            ranks = np.zeros((len(group), width), dtype=np.int64)
            state = None
            for start in range(0, width, chunk):
                piece = torch.from_numpy(inputs[:, start : start + chunk]).to(device)
                logits, state = model(piece, state)  # (B, t, V)
                nats[:, start : start + chunk], ranks[:, start : start + chunk] = surprisal(
                    logits.float().cpu().numpy(), targets[:, start : start + chunk])
            for line, index in enumerate(group):
                read_back[index] = (nats[line, : lengths[index]], ranks[line, : lengths[index]])
        return read_back

    return read


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _batches(lengths: Sequence[int], chunk: int, vocab: int) -> list[list[int]]:
    """Groups of documents (indices) to read as one batch, within :data:`MAX_LOGITS`."""
    rows = max(1, min(MAX_ROWS, MAX_LOGITS // (min(chunk, max(lengths, default=1)) * vocab)))
    return length_groups(lengths, rows)
