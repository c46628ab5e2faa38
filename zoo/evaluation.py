"""Evaluating a model: loss, perplexity, bits per character, accuracy, sampling speed.

Shared by the training loop's periodic evaluation, ``zoo eval`` and ``zoo compare``.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from zoo.data import Batch, TokenStream, consecutive_batches, encode_documents
from zoo.devices import autocast_dtype
from zoo.distributed import DistributedContext
from zoo.metrics import bits_per_byte, bits_per_character, perplexity

State = tuple[torch.Tensor, ...]


def autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast where :func:`autocast_dtype` allows it, else nothing."""
    dtype = autocast_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def batch_loss(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    state: State | None = None,
) -> tuple[torch.Tensor, torch.Tensor, State]:
    """Mean cross-entropy over a batch, the logits (B, T, V) and the model's new state."""
    logits, new_state = model(inputs, state)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))
    return loss, logits, new_state


def to_device(batch: Batch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Move an (inputs, targets) numpy batch to ``device`` (pinned, asynchronous on CUDA)."""
    tensors = [torch.from_numpy(array) for array in batch]
    if device.type == "cuda":
        tensors = [t.pin_memory().to(device, non_blocking=True) for t in tensors]
    else:
        tensors = [t.to(device) for t in tensors]
    return tensors[0], tensors[1]


@torch.no_grad()
def evaluate_batches(
    model: torch.nn.Module,
    batches: Any,
    stream: TokenStream,
    device: torch.device,
    distributed: DistributedContext | None = None,
) -> dict[str, float]:
    """Loss (nats/token), perplexity, bits per character and accuracy over ``batches``.

    Under DDP each rank evaluates its share and the sums are reduced across ranks.
    """
    was_training = model.training
    model.eval()
    totals = torch.zeros(3, device=device, dtype=torch.float64)  # loss sum, correct, count
    for batch in batches:
        inputs, targets = to_device(batch, device)
        with autocast(device):
            loss, logits, _ = batch_loss(model, inputs, targets)
        totals[0] += loss.double() * targets.numel()
        totals[1] += (logits.argmax(dim=-1) == targets).sum()
        totals[2] += targets.numel()
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
    registry: Any, loaded: Any, split: str = "val", batch_size: int = 16
) -> dict[str, Any]:
    """Evaluate a loaded run on every token of ``split``, in windows of its training block size."""
    from zoo.build import build_dataset
    from zoo.errors import ZooError

    dataset = build_dataset(registry, loaded.config.dataset)
    try:
        documents = dataset.texts(split)
    except KeyError:
        raise ZooError(f"dataset {loaded.config.dataset.name!r} has no {split!r} split") from None
    stream = encode_documents(loaded.tokenizer, documents)
    block_size = loaded.config.train.block_size
    device = next(loaded.model.parameters()).device
    batches = consecutive_batches(stream, block_size, batch_size)
    result: dict[str, Any] = evaluate_batches(loaded.model, batches, stream, device)
    result["split"] = split
    return result


@torch.inference_mode()
def sampling_speed(model: torch.nn.Module, vocab_size: int, tokens: int = 256,
                   batch_size: int = 1) -> float:
    """Tokens per second of stepping ``model`` one token at a time (greedy, after warm-up)."""
    from zoo.decoding import SamplingSettings, choose_next

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
