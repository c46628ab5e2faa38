"""Sampling text from a PyTorch model by stepping its state one token at a time.

The prompt is run through the model once; after that each new token is fed
alone with the carried state (``forward`` with T = 1), never re-running the
context. Token choice is :func:`zoo.decoding.choose_next`, shared with the
onnxruntime sampler.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from zoo.contracts import Tokenizer
from zoo.decoding import IncrementalDecoder, SamplingSettings, choose_next
from zoo.errors import ZooError


def prompt_ids(tokenizer: Tokenizer, prompt: str) -> list[int]:
    """The prompt's tokens; an empty prompt starts from a newline (as nanoGPT does)."""
    ids = tokenizer.encode(prompt if prompt else "\n")
    if not ids:
        raise ZooError(f"the prompt {prompt!r} encodes to no tokens; give a longer --prompt")
    return ids


@torch.inference_mode()
def generate(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    *,
    prompt: str = "",
    max_new_tokens: int = 500,
    settings: SamplingSettings | None = None,
    num_samples: int = 1,
    seed: int | None = None,
    on_text: Callable[[str], None] | None = None,
) -> list[str]:
    """Sample ``num_samples`` continuations of ``prompt`` as one batch.

    ``on_text`` receives text as it is completed (only with one sample), for
    streaming to a terminal. Returns the generated texts, prompt excluded.
    """
    settings = settings or SamplingSettings()
    device = next(model.parameters()).device
    rng = np.random.default_rng(seed)
    context = prompt_ids(tokenizer, prompt)
    inputs = torch.tensor([context] * num_samples, dtype=torch.long, device=device)  # (B, T)
    logits, state = model(inputs)  # (B, T, V)
    generated: list[list[int]] = [[] for _ in range(num_samples)]
    streamer = IncrementalDecoder(tokenizer.decode) if on_text and num_samples == 1 else None
    for position in range(max_new_tokens):
        next_ids = choose_next(logits[:, -1].float().cpu().numpy(), settings, rng)  # (B,)
        for row, token in zip(generated, next_ids.tolist(), strict=True):
            row.append(token)
        if streamer is not None and on_text is not None:
            on_text(streamer.push(next_ids.tolist()))
        if position + 1 < max_new_tokens:
            step_input = torch.from_numpy(next_ids).to(device)[:, None]  # (B, 1)
            logits, state = model(step_input, state)  # (B, 1, V)
    if streamer is not None and on_text is not None:
        on_text(streamer.flush())
    return [tokenizer.decode(row) for row in generated]
