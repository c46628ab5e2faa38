"""Contract checks for components, public so that a plugin's own tests can run them.

Every built-in architecture passes :func:`check_architecture` in zoo's test
suite; a third-party architecture is checked by the very same call::

    from zoo.testing import check_architecture
    from my_package.model import TinyModel, TinyConfig

    def test_contract():
        check_architecture(TinyModel, TinyConfig())

Tokenizers and datasets have theirs: :func:`check_tokenizer` and
:func:`check_dataset`. Each check raises ``AssertionError`` with a message
saying which part of the contract failed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

TOLERANCE = 1e-5


def _as_tuple(state: Any, what: str) -> tuple[Any, ...]:
    assert isinstance(state, tuple), f"{what} must be a tuple of tensors, got {type(state)}"
    return state


def check_forward_shapes(model: Any, vocab_size: int, batch: int = 2, length: int = 7) -> None:
    """``forward(idx[B,T])`` returns logits (B, T, V) and a state that ``init_state`` matches."""
    import torch

    idx = torch.randint(0, vocab_size, (batch, length))
    logits, state = model(idx)
    assert tuple(logits.shape) == (batch, length, vocab_size), (
        f"logits have shape {tuple(logits.shape)}, expected {(batch, length, vocab_size)}"
    )
    state = _as_tuple(state, "the state returned by forward")
    initial = _as_tuple(model.init_state(batch), "init_state(batch_size)")
    assert len(state) == len(initial), "forward's state and init_state differ in length"
    for index, (returned, fresh) in enumerate(zip(state, initial, strict=True)):
        assert returned.shape == fresh.shape and returned.dtype == fresh.dtype, (
            f"state[{index}] is {tuple(returned.shape)} {returned.dtype} after forward but "
            f"{tuple(fresh.shape)} {fresh.dtype} from init_state"
        )


def check_backward(model: Any, vocab_size: int) -> None:
    """A loss on the logits gives a finite gradient to every trainable parameter."""
    import torch
    from torch.nn import functional as F

    model.train()
    model.zero_grad(set_to_none=True)
    idx = torch.randint(0, vocab_size, (3, 9))
    logits, _ = model(idx)
    F.cross_entropy(logits.reshape(-1, vocab_size), idx.roll(-1, 1).reshape(-1)).backward()
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            assert parameter.grad is not None, f"parameter {name} got no gradient"
            assert torch.isfinite(parameter.grad).all(), f"parameter {name} has a non-finite grad"
    model.zero_grad(set_to_none=True)


def check_initial_state(model: Any, vocab_size: int) -> None:
    """``forward(idx, init_state(B))`` equals ``forward(idx)`` (``None`` means initial)."""
    import torch

    model.eval()
    idx = torch.randint(0, vocab_size, (2, 6))
    with torch.no_grad():
        implicit, _ = model(idx)
        explicit, _ = model(idx, model.init_state(2))
    difference = (implicit - explicit).abs().max().item()
    assert difference <= TOLERANCE, f"init_state differs from state=None by {difference:.2e}"


def check_stepping(model: Any, vocab_size: int, length: int = 12) -> None:
    """One token at a time with the carried state gives the logits of one full forward."""
    import torch

    model.eval()
    idx = torch.randint(0, vocab_size, (2, length))
    with torch.no_grad():
        full, _ = model(idx)
        state = None
        steps = []
        for t in range(length):
            logits, state = model(idx[:, t : t + 1], state)
            steps.append(logits)
    difference = (full - torch.cat(steps, dim=1)).abs().max().item()
    assert difference <= TOLERANCE, (
        f"stepping one token at a time differs from the full forward by {difference:.2e}"
    )


def check_save_load(build: Callable[[], Any], model: Any, vocab_size: int) -> None:
    """Weights saved with safetensors load into a fresh model that gives identical logits."""
    import torch
    from safetensors.torch import load_model, save_model

    model.eval()
    idx = torch.randint(0, vocab_size, (2, 8))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "model.safetensors"
        save_model(model, str(path))
        fresh = build()
        load_model(fresh, str(path))
    fresh.eval()
    with torch.no_grad():
        expected, _ = model(idx)
        actual, _ = fresh(idx)
    assert torch.equal(expected, actual), "a saved and reloaded model gives different logits"


def check_architecture(factory: Callable[..., Any], config: Any, vocab_size: int = 23,
                       seed: int = 0) -> None:
    """Run every architecture-contract check on ``factory(config, vocab_size)``."""
    import torch

    torch.manual_seed(seed)

    def build() -> Any:
        return factory(config, vocab_size)

    model = build()
    assert isinstance(model, torch.nn.Module), "an architecture factory must return an nn.Module"
    check_forward_shapes(model, vocab_size)
    check_backward(model, vocab_size)
    check_initial_state(model, vocab_size)
    check_stepping(model, vocab_size)
    check_save_load(build, model, vocab_size)


SAMPLE_TEXTS = [
    "First Citizen:\nBefore we proceed any further, hear me speak.\n",
    "All:\nSpeak, speak.\n\nFirst Citizen:\nYou are all resolved rather to die than to famish?\n",
]


def check_tokenizer(factory: Callable[..., Any], config: Any,
                    texts: list[str] | None = None, vocab_size: int | None = None) -> None:
    """Run the tokenizer contract on ``factory(config)`` trained on ``texts``.

    Trained text round-trips through ``encode``/``decode``; ids lie in
    ``[0, vocab_size)``; ``save`` then ``load`` into a fresh tokenizer encodes
    and decodes identically; text with characters never seen in training is
    handled (ids in range, or a ``ValueError`` that says why), never a crash.
    """
    texts = texts or SAMPLE_TEXTS
    tokenizer = factory(config)
    tokenizer.train(texts, vocab_size)
    size = tokenizer.vocab_size
    assert isinstance(size, int) and size > 0, f"vocab_size must be a positive int, got {size!r}"
    for text in texts:
        ids = tokenizer.encode(text)
        assert all(isinstance(i, int) and 0 <= i < size for i in ids), (
            f"encode gave ids outside [0, {size}) or not ints: {ids[:10]}..."
        )
        decoded = tokenizer.decode(ids)
        assert decoded == text, (
            f"training text does not round-trip: {text[:40]!r} -> {decoded[:40]!r}")
    unseen = "Zebra quartz \u00e9\u4e2d\U0001f600 \x00"
    try:
        ids = tokenizer.encode(unseen)
    except ValueError as error:
        assert str(error), "an unrepresentable input must raise with a message"
    else:
        assert all(0 <= i < size for i in ids), "encoding unseen text gave ids out of range"
        assert isinstance(tokenizer.decode(ids), str)
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer.save(Path(scratch))
        fresh = factory(config)
        fresh.load(Path(scratch))
    assert fresh.vocab_size == size, "a saved and reloaded tokenizer has another vocab_size"
    for text in texts:
        assert fresh.encode(text) == tokenizer.encode(text), (
            "a saved and reloaded tokenizer encodes differently"
        )


def check_dataset(factory: Callable[..., Any], config: Any) -> None:
    """Run the dataset contract on ``factory(config)``.

    ``texts("train")`` and ``texts("val")`` return non-empty lists of
    non-empty-in-total strings, the same on a second call.
    """
    dataset = factory(config)
    for split in ("train", "val"):
        documents = dataset.texts(split)
        assert isinstance(documents, list) and all(isinstance(d, str) for d in documents), (
            f"texts({split!r}) must return a list of str"
        )
        assert sum(len(d) for d in documents) > 0, f"texts({split!r}) is empty"
        assert dataset.texts(split) == documents, f"texts({split!r}) changes between calls"
