"""Sampling text from a PyTorch model by stepping its state one token at a time.

The prompt is run through the model once; after that each new token is fed
alone with the carried state (``forward`` with T = 1), never re-running the
context. The loop that chooses tokens is :func:`zoo.sampling.loop.continue_sequences`,
shared with the onnxruntime sampler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from zoo.registry.contracts import Tokenizer
from zoo.sampling.loop import SamplingSettings, continue_sequences, prompt_ids, stopping_for


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
    stop: Sequence[str] = (),
    ignore_end_of_text: bool = False,
) -> list[str]:
    """Sample ``num_samples`` continuations of ``prompt`` as one batch.

    ``on_text`` receives text as it is completed (only with one sample), for
    streaming to a terminal. A sample ends at the end-of-text token (unless
    ``ignore_end_of_text``) or before a ``stop`` string. Returns the generated
    texts, prompt excluded.
    """
    settings = settings or SamplingSettings()
    device = next(model.parameters()).device
    rng = np.random.default_rng(seed)
    context = prompt_ids(tokenizer, prompt)
    inputs = torch.tensor([context] * num_samples, dtype=torch.long, device=device)  # (B, T)
    logits, state = model(inputs)  # (B, T, V)

    def step(next_ids: np.ndarray) -> np.ndarray:
        nonlocal state
        step_input = torch.from_numpy(next_ids).to(device)[:, None]  # (B, 1)
        step_logits, state = model(step_input, state)  # (B, 1, V)
        return step_logits[:, -1].float().cpu().numpy()  # (B, V)

    return continue_sequences(logits[:, -1].float().cpu().numpy(), step,
                              decode=tokenizer.decode, max_new_tokens=max_new_tokens,
                              settings=settings, rng=rng, on_text=on_text,
                              stopping=stopping_for(tokenizer, stop, ignore_end_of_text))


class ModelFeed:
    """Steps a PyTorch model with its state carried from call to call: the
    :data:`zoo.sampling.chat.Feed` of a conversation with a run."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.state: tuple[torch.Tensor, ...] | None = None  # None: the initial state

    @torch.inference_mode()
    def __call__(self, ids: Sequence[int]) -> np.ndarray:
        """Run ``ids`` through the model from the carried state: the last logits (1, V)."""
        device = next(self.model.parameters()).device
        inputs = torch.tensor([list(ids)], dtype=torch.long, device=device)  # (1, T)
        logits, self.state = self.model(inputs, self.state)
        return logits[:, -1].float().cpu().numpy()


def training_sample(model: torch.nn.Module, tokenizer: Tokenizer, prompt: str,
                    max_new_tokens: int, seed: int) -> str:
    """One sample made while training (``train.sample_every``), the model in eval mode for
    it and back in training mode after; it draws from its own seeded generator, so the
    run's batches and torch's random state are as they would be without it."""
    was_training = model.training
    model.eval()
    try:
        return generate(model, tokenizer, prompt=prompt, max_new_tokens=max_new_tokens,
                        seed=seed)[0]
    finally:
        model.train(was_training)
