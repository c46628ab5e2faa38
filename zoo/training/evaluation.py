"""Evaluating a model: loss, perplexity, bits per character, accuracy, sampling speed.

Shared by the training loop's periodic evaluation, ``zoo eval`` and ``zoo compare``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from zoo.data.batches import consecutive_batches
from zoo.data.documents import PAD_TARGET, rows_of, unknown_count
from zoo.data.streams import TokenStream, check_long_enough, encode_documents
from zoo.errors import ZooError
from zoo.registry.contracts import SPLITS
from zoo.registry.factory import build_dataset
from zoo.sampling.loop import SamplingSettings, choose_next
from zoo.training.distributed import DistributedContext
from zoo.training.metrics import bits_per_byte, bits_per_character, perplexity
from zoo.training.steps import batch_loss, to_device


@torch.no_grad()
def evaluate_batches(
    model: torch.nn.Module,
    batches: Any,
    stream: TokenStream,
    device: torch.device,
    distributed: DistributedContext | None = None,
) -> dict[str, float]:
    """Loss (nats/token), perplexity, bits per character and accuracy over ``batches``.

    Always in float32, whatever precision trained the model, so a run's figures compare
    across machines and equal what ``zoo eval`` reports on any of them. Under DDP each rank
    evaluates its share and the sums are reduced across ranks.
    """
    was_training = model.training
    model.eval()
    totals = torch.zeros(3, device=device, dtype=torch.float64)  # loss sum, correct, count
    for batch in batches:
        inputs, targets = to_device(batch, device)
        loss, logits, _ = batch_loss(model, inputs, targets)  # float32, whatever trained it
        counted = targets != PAD_TARGET  # (B, T)
        totals[0] += loss.double() * counted.sum()
        totals[1] += ((logits.argmax(dim=-1) == targets) & counted).sum()
        totals[2] += counted.sum()
    model.train(was_training)
    if distributed is not None:
        distributed.sum(totals)
    loss_sum, correct, count = totals.tolist()
    loss_value = loss_sum / count
    return {
        "loss": loss_value,
        "perplexity": perplexity(loss_value),
        "bits_per_char": bits_per_character(loss_value, stream.tokens_per_char),
        "bits_per_byte": bits_per_byte(loss_value, stream.tokens_per_byte),
        "accuracy": correct / count,
        "tokens": int(count),
    }


def evaluate_run(
    registry: Any, loaded: Any, split: str = "val", batch_size: int = 16, progress: bool = False,
    block_size: int | None = None,
) -> dict[str, Any]:
    """Evaluate a loaded run on every token of ``split``, in windows of ``block_size`` tokens
    (default: its training block size), each scored from a fresh state.

    Longer windows give each token more context on average, so a loss is only comparable
    with another scored in windows of the same length. ``progress`` shows a bar over the
    batches on a terminal or in Jupyter.
    """
    window = loaded.config.train.block_size if block_size is None else block_size
    dataset = build_dataset(registry, loaded.config.dataset)
    try:
        documents = dataset.texts(split)
    except (KeyError, ValueError) as error:
        # KeyError: the dataset has no such split, as the contract says; ValueError: how a
        # dataset written before test splits refuses one (train and val always exist)
        if isinstance(error, ValueError) and split in SPLITS:
            raise
        raise ZooError(f"dataset {loaded.config.dataset.name!r} has no {split!r} split; "
                       "evaluate --split val (or train)") from None
    stream = encode_documents(loaded.tokenizer, documents)
    if rows_of(loaded.config.dataset.config) == "packed":  # no window fits a shorter one
        check_long_enough({split: stream}, window,
                          "give it more text, or train with --set dataset.rows=padded"
                          if block_size is None else "evaluate it in shorter windows")
    device = next(loaded.model.parameters()).device
    windows = consecutive_batches(stream, window, batch_size,
                                  rows_of(loaded.config.dataset.config))  # found once
    batches = tqdm(windows, desc=f"eval {split}", total=len(windows), unit="batch", leave=False,
                   disable=None if progress else True)
    result: dict[str, Any] = evaluate_batches(loaded.model, batches, stream, device)
    result["split"] = split
    result["block_size"] = window
    # text the tokenizer maps to <unk> is easy to predict and flatters the loss: say how much
    result["unknown_rate"] = unknown_count(stream.ids, loaded.tokenizer) / max(1, len(stream.ids))
    return result


@torch.inference_mode()
def sampling_speed(model: torch.nn.Module, vocab_size: int, tokens: int = 256,
                   batch_size: int = 1) -> float:
    """Tokens per second of stepping ``model`` one token at a time (greedy, after warm-up)."""
    device = next(model.parameters()).device
    settings = SamplingSettings(temperature=0)
    rng = np.random.default_rng(0)

    def run(count: int) -> None:
        ids = torch.zeros(batch_size, 1, dtype=torch.long, device=device)
        state = None
        for _ in range(count):
            logits, state = model(ids, state)
            next_ids = choose_next(logits[:, -1].float().cpu().numpy(), settings, rng)
            ids = torch.from_numpy(next_ids).to(device)[:, None]

    run(8)
    started = time.perf_counter()
    run(tokens)
    return tokens * batch_size / (time.perf_counter() - started)
