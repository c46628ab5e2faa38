"""What a :class:`~zoo.api.run.Run` (PyTorch) and an :class:`~zoo.api.export.Export` (its
runtime) share: sampling, streaming, novelty, scoring, chat and the surprisal view, over a
backend each supplies."""

from __future__ import annotations

import abc
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.analysis.inspection import Inspection, with_surprisal
from zoo.analysis.novelty import Novelty, novelty
from zoo.analysis.scoring import Scores
from zoo.analysis.tables import html_card
from zoo.errors import ZooError
from zoo.registry.factory import build_dataset
from zoo.registry.host import Registry
from zoo.sampling.chat import Chat, ChatFormat, Feed
from zoo.sampling.loop import SamplingSettings
from zoo.sampling.streaming import stream_pieces

if TYPE_CHECKING:
    from zoo.config.sections import ComponentChoice

#: ``generate(prompt=..., max_new_tokens=..., settings=..., num_samples=..., seed=...,
#: stop=..., ignore_end_of_text=..., on_text=...)`` -> the continuations: a backend's sampler.
Generate = Callable[..., list[str]]


def log_to_stderr(line: str) -> None:
    """Where the API's progress lines go unless a ``log`` callable is given."""
    print(line, file=sys.stderr, flush=True)


def sampling_settings(temperature: float, top_k: int | None, top_p: float | None
                      ) -> SamplingSettings:
    """The settings, with a bad value as a ZooError (one line) rather than a ValueError."""
    try:
        return SamplingSettings(temperature=temperature, top_k=top_k, top_p=top_p)
    except ValueError as error:
        raise ZooError(str(error)) from None


def check_sampling_counts(max_new_tokens: int, num_samples: int) -> None:
    if max_new_tokens < 1 or num_samples < 1:
        raise ZooError(f"max_new_tokens and num_samples must be at least 1, got "
                       f"{max_new_tokens} and {num_samples}")


class Sampler(abc.ABC):
    """Samples, scores and talks with a trained model, whatever runs it.

    A subclass states its backend: :meth:`_generate`, its sampler;
    :meth:`_score`, its scorer; :meth:`_feed`, its stepper for a conversation;
    :meth:`_views`, what the model shows of itself beyond its surprisal;
    :meth:`_dataset_choice`, the dataset the model was trained on (for novelty
    and its documents); and :meth:`_summary`, the rows of its ``repr``.
    """

    directory: Path
    _registry: Registry
    _title = "zoo source"  # the heading of the HTML card a notebook shows

    @property
    @abc.abstractmethod
    def architecture(self) -> str:
        """The name of the model's architecture."""

    @abc.abstractmethod
    def _generate(self) -> Generate:
        """The backend's sampler (see :data:`Generate`)."""

    @abc.abstractmethod
    def _score(self, documents: list[str]) -> Scores:
        """Each document's score (see :meth:`score`)."""

    @abc.abstractmethod
    def _feed(self) -> tuple[Feed, Any]:
        """A fresh :data:`~zoo.sampling.chat.Feed` of the model, and its tokenizer."""

    def _views(self, text: str) -> Inspection | None:
        """What the model exposes while reading ``text`` beyond its surprisal, or None."""
        return None

    @abc.abstractmethod
    def _dataset_choice(self) -> ComponentChoice:
        """The dataset (and its config) the model was trained on."""

    @abc.abstractmethod
    def _summary(self) -> list[tuple[str, str]]:
        """(label, value) rows that describe this source."""

    def sample(self, prompt: str = "", max_new_tokens: int = 500, temperature: float = 0.8,
               top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
               num_samples: int = 1, stop: Sequence[str] = (),
               ignore_end_of_text: bool = False) -> list[str]:
        """``num_samples`` texts, each ``prompt`` and its continuation (``zoo sample``).

        A sample ends at ``max_new_tokens``, at the end-of-text token (unless
        ``ignore_end_of_text``: ``--ignore-eot``), or just before any of the
        ``stop`` strings (``--stop``), which works on the decoded text.

        >>> run.sample("ROMEO:", max_new_tokens=5, seed=0)[0].startswith("ROMEO:")
        True
        """
        check_sampling_counts(max_new_tokens, num_samples)
        texts = self._generate()(prompt=prompt, max_new_tokens=max_new_tokens,
                                 settings=sampling_settings(temperature, top_k, top_p),
                                 num_samples=num_samples, seed=seed, stop=tuple(stop),
                                 ignore_end_of_text=ignore_end_of_text)
        return [prompt + text for text in texts]

    def stream(self, prompt: str = "", max_new_tokens: int = 500, temperature: float = 0.8,
               top_k: int | None = None, top_p: float | None = None,
               seed: int | None = None, stop: Sequence[str] = (),
               ignore_end_of_text: bool = False) -> Iterator[str]:
        """Yield the continuation of ``prompt`` piece by piece, as it is made; it ends as
        :meth:`sample`'s does (text that may begin a stop string waits until it cannot).

        >>> "".join(run.stream("ROMEO:", max_new_tokens=5, seed=0)) == run.sample(
        ...     "ROMEO:", max_new_tokens=5, seed=0)[0].removeprefix("ROMEO:")
        True
        """
        check_sampling_counts(max_new_tokens, 1)
        return stream_pieces(self._generate(), {
            "prompt": prompt, "max_new_tokens": max_new_tokens, "seed": seed,
            "settings": sampling_settings(temperature, top_k, top_p), "stop": tuple(stop),
            "ignore_end_of_text": ignore_end_of_text})

    def score(self, texts: str | Sequence[str]) -> Scores:
        """How well the model predicts each of ``texts`` (``zoo score``): per document and in
        total, tokens, nats, nats/token, bits/char and perplexity, and each token's
        surprisal (nats) and rank.

        Each text is one document, read as training read it: end of text on both
        sides, the first one context and every token after it predicted, from the
        model's initial state with its state carried to the end (see
        :mod:`zoo.analysis.scoring`). A run and its export give the same numbers.

        >>> scores = run.score(["First Citizen:", "Before we proceed any further"])
        >>> [document.tokens for document in scores.documents], scores.tokens
        ([15, 30], 45)
        >>> abs(scores.nats_per_token - scores.nats / 45) < 1e-12
        True
        """
        documents = [texts] if isinstance(texts, str) else list(texts)
        if not all(isinstance(text, str) for text in documents):
            raise ZooError("score texts: give a string or a list of strings")
        if not documents:
            raise ZooError("nothing to score: give at least one text")
        return self._score(documents)

    def documents(self, split: str = "val") -> list[str]:
        """The documents of ``split`` (``"train"``, ``"val"``, or ``"test"`` where the
        dataset has one) as the model saw them: its dataset rebuilt from its config.

        >>> [len(document) for document in run.documents("val")]  # one text, its last 10%
        [6000]
        """
        dataset = build_dataset(self._registry, self._dataset_choice())
        try:
            return list(dataset.texts(split))
        except KeyError:
            raise ZooError(f"dataset {self._dataset_choice().name!r} has no {split!r} split; "
                           "ask for val (or train)") from None

    def chat(self, *, user: str = "<prompt> ", reply: str = " <ai> ",
             max_new_tokens: int = 200, temperature: float = 0.8, top_k: int | None = None,
             top_p: float | None = None, seed: int | None = None) -> Chat:
        """A conversation with the model (``zoo chat``): ``chat.say(words)`` returns its reply,
        the model's state carried from turn to turn. Each turn is written
        ``user + words + reply + the model's reply`` (GruLM's format by default);
        with ``user=""`` and ``reply=""`` each turn is the words and their
        continuation (``zoo sample -i``).

        >>> conversation = run.chat(user="First Citizen:\\n", reply="\\nSecond Citizen:\\n",
        ...                         seed=0, max_new_tokens=10)
        >>> isinstance(conversation.say("Who goes there?"), str)
        True
        """
        check_sampling_counts(max_new_tokens, 1)
        feed, tokenizer = self._feed()
        return Chat(feed, tokenizer, sampling_settings(temperature, top_k, top_p),
                    max_new_tokens, seed, ChatFormat(user, reply))

    def inspect(self, text: str) -> Inspection:
        """What the model does while reading ``text`` (``zoo inspect``), as arrays in
        ``.views`` against ``.tokens``: every view its architecture exposes (gates,
        hidden states, attention or its table; a run only) and ``"surprisal"``, each
        token's surprisal in nats (NaN for the first, the context); ``.plot()`` draws
        them.

        >>> inside = run.inspect("ROMEO:")
        >>> inside.tokens[:3], inside.views["surprisal"].shape
        (['<|endoftext|>', 'R', 'O'], (7,))
        >>> sorted(inside.views)
        ['candidate', 'hidden state', 'reset gate', 'surprisal', 'update gate']
        """
        if not text:
            raise ZooError("give a text to read (--text)")
        inside = self._views(text)  # first: text its tokenizer cannot represent is refused
        return with_surprisal(inside, self.score(text), self.architecture)

    def novelty(self, samples: Sequence[str]) -> Novelty:
        """How many ``samples`` are new, and how many are documents of the training or
        validation split of the dataset the model was trained on (makemore's figure;
        ``zoo sample --novelty``).

        >>> print(run.novelty(["First Citizen", "a name nobody wrote"]))
        novelty: 2 of 2 samples are new; 0 are in the training set, 0 in the validation set
        """
        dataset = build_dataset(self._registry, self._dataset_choice())
        return novelty(samples, dataset.texts("train"), dataset.texts("val"))

    def __repr__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self._summary())
        return f"<zoo.{type(self).__name__} {str(self.directory)!r}: {details}>"

    def _repr_html_(self) -> str:
        return html_card(f"{self._title} {self.directory}", self._summary())
