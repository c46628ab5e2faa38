"""A conversation with a trained run or an export, the model's state carried from turn to turn.

GruLM's "Enter your prompt" loop. Each turn is a document in the prompt
format, ``<prompt> {words} <ai> {reply}`` by default: the user's words are
fed (after the end-of-text token that starts a document), then the reply is
sampled until the model ends it: at end of text, at the start of another
user turn, or at ``max_new_tokens``. Only the new turn is fed; the recurrent
state (or the transformer's cache) after the reply carries into the next
one, so nothing said before is read again. A model answers in this format
when it was trained on documents written in it (a ``jsonl`` or ``line``
dataset of such exchanges). With no markers at all (``zoo sample -i``), each
turn is the user's words and the model's continuation of them.

numpy only: the model is stepped through a :data:`Feed`, which a run makes
with PyTorch (:class:`zoo.sampling.torch_sampler.ModelFeed`) and an export
with its exporter's runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo.data.documents import end_of_text_id
from zoo.errors import ZooError
from zoo.sampling.loop import SamplingSettings, Stopping, continue_sequences, prompt_ids

#: ``feed(ids)`` -> the logits (1, V) after the last of ``ids``: runs token ids through the
#: model from the state the previous call left (the initial state at first), and keeps the
#: new state for the next call.
Feed = Callable[[Sequence[int]], np.ndarray]


@dataclass(frozen=True)
class ChatFormat:
    """How a turn is written: ``user`` + the user's words + ``reply`` + the model's reply."""

    user: str = "<prompt> "  # what starts the user's part of a turn
    reply: str = " <ai> "  # what comes between the user's words and the model's reply


@dataclass
class Chat:
    """One conversation: :meth:`say` gives the model's reply to the user's words."""

    feed: Feed  # steps the model, its state carried from call to call
    tokenizer: Any
    settings: SamplingSettings = field(default_factory=SamplingSettings)
    max_new_tokens: int = 200
    seed: int | None = None
    chat_format: ChatFormat = field(default_factory=ChatFormat)
    history: list[tuple[str, str]] = field(default_factory=list)  # (words, reply) per turn

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        marker = self.chat_format.user.strip()
        self._stopping = Stopping(end_of_text_id(self.tokenizer), (marker,) if marker else ())
        user, reply = self.chat_format.user, self.chat_format.reply
        try:
            prompt_ids(self.tokenizer, user + reply)
        except ZooError:
            raise ZooError(f"the turn markers {user!r} and {reply!r} hold text this run's "
                           "tokenizer cannot represent; choose others, made of text it was trained "
                           "on, with --user and --reply") from None

    def say(self, words: str, on_text: Callable[[str], None] | None = None) -> str:
        """The model's reply to ``words``; ``on_text`` receives it as it is made."""
        turn = f"{self.chat_format.user}{words}{self.chat_format.reply}"
        logits = self.feed(prompt_ids(self.tokenizer, turn))

        def step(next_ids: np.ndarray) -> np.ndarray:
            return self.feed(next_ids.tolist())

        reply = continue_sequences(logits, step, decode=self.tokenizer.decode,
                                   max_new_tokens=self.max_new_tokens, settings=self.settings,
                                   rng=self._rng, on_text=on_text, stopping=self._stopping)[0]
        self.history.append((words, reply))
        return reply
