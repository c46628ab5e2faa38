"""Scoring text under a model: how surprised it is by every token of every document.

A document is scored as training saw it, with end of text on both sides:
``EOT doc EOT``. The first EOT is context; every token of the document and the
closing EOT is predicted, from the model's initial state, so the positions are
the ones ``zoo eval`` scores. The document is read from start to end with the
model's state carried (a recurrent model's hidden state, the transformer's
key/value cache and its sliding window of ``block_size`` tokens), exactly as
sampling steps it. A document that fits one training window (its tokens and
both EOTs at most ``block_size + 1``) is therefore scored exactly as ``zoo
eval`` scores it in a padded dataset (``dataset.rows=padded``); a longer one is
read whole here, where ``zoo eval`` cuts it into windows that each start
afresh, so here it keeps its context and scores a little better.

A tokenizer without an end-of-text token has no boundaries to put around a
document: its first token is the context and every later token is predicted
(as ``zoo eval`` reads a stream of documents back to back); nothing closes it.

numpy only, no torch: a backend runs the model (PyTorch in
:mod:`zoo.analysis.model_scoring`, an exporter's runtime such as onnxruntime
through ``zoo.plugin``) and reduces its logits with :func:`surprisal`;
:func:`score_documents` does the rest, the same for every backend.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.analysis.tables import text_table
from zoo.data.documents import end_of_text_id, lines_of, paragraphs_of, unknown_id
from zoo.data.stats import token_label
from zoo.data.streams import encode_documents
from zoo.errors import ZooError
from zoo.files.reading import read_text_file
from zoo.training.metrics import perplexity

#: What one document of a file is (``zoo score --documents``): the whole file, each run of
#: non-blank lines, or each non-blank line; the ``text`` dataset's rules for the same names.
DOCUMENTS = ("file", "paragraph", "line")

#: ``read(rows)`` -> one ``(nats, ranks)`` pair per row: a backend runs each row of token
#: ids (N,) through the model from its initial state, and gives for every position but the
#: last the surprisal in nats and the rank of the token that follows it, each (N - 1,),
#: as :func:`surprisal` computes them from the logits.
Reader = Callable[[Sequence[np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]


def surprisal(logits: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The surprisal (nats, float64) and rank (1 = the model's first choice, int64) of each
    target under ``logits``: logits (..., V), targets (...) -> two arrays (...).

    Surprisal is ``-log softmax(logits)[target]``, computed in float64; the rank
    counts the tokens with a strictly larger logit, plus one. A negative target
    is padding: its surprisal is 0 and its rank 0.
    """
    logits = np.asarray(logits)
    targets = np.asarray(targets, dtype=np.int64)
    chosen = np.maximum(targets, 0)[..., None]  # (..., 1)
    target_logits = np.take_along_axis(logits, chosen, axis=-1)  # (..., 1)
    ranks = (logits > target_logits).sum(axis=-1) + 1  # (...)
    wide = logits.astype(np.float64)
    top = wide.max(axis=-1, keepdims=True)  # (..., 1)
    log_total = np.log(np.exp(wide - top).sum(axis=-1)) + top[..., 0]  # (...)
    nats = log_total - target_logits[..., 0].astype(np.float64)
    padding = targets < 0
    return np.where(padding, 0.0, nats), np.where(padding, 0, ranks).astype(np.int64)


def length_groups(lengths: Sequence[int], rows: int) -> list[list[int]]:
    """The indices of ``lengths`` in groups of at most ``rows``, shortest first, so that a
    backend that runs a group as one padded batch wastes little on padding."""
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    return [order[first : first + rows] for first in range(0, len(order), rows)]


def document_row(tokenizer: Any, text: str) -> np.ndarray:
    """The token ids (N,) a document is scored on: ``EOT doc EOT``, or the document's own
    tokens when the tokenizer has no end-of-text token."""
    try:
        stream = encode_documents(tokenizer, [text])  # the framing training and eval use
    except ValueError as error:
        raise ZooError(f"the text cannot be encoded: {error}") from None
    return stream.ids.astype(np.int64)


class _Figures:
    """What a score says, from its text's characters and its tokens' total surprisal."""

    @property
    def tokens(self) -> int:
        """How many tokens were predicted."""
        raise NotImplementedError

    @property
    def nats(self) -> float:
        """The total surprisal of the predicted tokens: minus their log-likelihood, in nats."""
        raise NotImplementedError

    @property
    def chars(self) -> int:
        """The characters of the text scored."""
        raise NotImplementedError

    @property
    def nats_per_token(self) -> float | None:
        """The mean surprisal of the predicted tokens; None when none was predicted."""
        return self.nats / self.tokens if self.tokens else None

    @property
    def bits_per_char(self) -> float | None:
        """Total surprisal in bits over the text's characters; None for an empty text."""
        return self.nats / math.log(2) / self.chars if self.chars else None

    @property
    def perplexity(self) -> float | None:
        """exp(nats per token); None when no token was predicted."""
        mean = self.nats_per_token
        return None if mean is None else perplexity(mean)

    def figures(self) -> dict[str, Any]:
        return {"chars": self.chars, "tokens": self.tokens, "nats": self.nats,
                "nats_per_token": self.nats_per_token, "bits_per_char": self.bits_per_char,
                "perplexity": self.perplexity}


@dataclass
class DocumentScore(_Figures):
    """One document's score: its tokens as read, and each predicted token's surprisal."""

    text: str
    ids: np.ndarray  # (N,) the tokens read: ids[0] is context, ids[1:] are predicted
    surprisal: np.ndarray  # (N - 1,) nats of each predicted token, float64
    ranks: np.ndarray  # (N - 1,) each predicted token's rank, 1 = the model's first choice
    closed: bool  # the last token is the closing end of text (the tokenizer has one)

    @property
    def tokens(self) -> int:
        """How many tokens were predicted (the document's and the closing end of text)."""
        return len(self.surprisal)

    @property
    def nats(self) -> float:
        """The document's total surprisal: minus its log-likelihood, in nats."""
        return float(self.surprisal.sum())

    @property
    def chars(self) -> int:
        return len(self.text)


@dataclass
class Scores(_Figures):
    """Every document's score and the totals over all of them (``zoo score``).

    The totals count every predicted token of every document: ``nats_per_token``
    is the mean over all of them, as ``zoo eval``'s loss is.
    """

    documents: list[DocumentScore]
    label: Callable[[int], str]  # a token id as readable text
    unknown: int  # predicted tokens that are the tokenizer's unknown token

    @property
    def tokens(self) -> int:
        return sum(document.tokens for document in self.documents)

    @property
    def nats(self) -> float:
        return float(sum(document.nats for document in self.documents))

    @property
    def chars(self) -> int:
        return sum(document.chars for document in self.documents)

    def to_dict(self, per_token: bool = False) -> dict[str, Any]:
        """The numbers, for ``--json``: each document's and the totals; with ``per_token``
        each predicted token's label, id, surprisal (nats) and rank."""
        documents = []
        for document in self.documents:
            entry: dict[str, Any] = {"text": document.text, **document.figures()}
            if per_token:
                entry["per_token"] = [
                    {"token": self.label(token), "id": token, "nats": nats, "rank": rank}
                    for token, nats, rank in zip(document.ids[1:].tolist(),
                                                 document.surprisal.tolist(),
                                                 document.ranks.tolist(), strict=True)]
            documents.append(entry)
        return {"surprisal_unit": "nats", "documents": documents,
                "total": {"documents": len(self.documents), **self.figures(),
                          "unknown_tokens": self.unknown}}

    def table(self, per_token: bool = False) -> str:
        """What ``zoo score`` prints: a row per document and the total; with ``per_token``
        each document's tokens after the table, with their surprisal (nats) and rank."""
        header = ["#", "document", "tokens", "nats", "nats/token", "bits/char", "perplexity"]
        rows = [header] + [[str(index), preview(document.text), *_cells(document)]
                           for index, document in enumerate(self.documents, 1)]
        rows.append(["", "total", *_cells(self)])
        lines = [text_table(rows, right_aligned={0, 2, 3, 4, 5, 6})]
        if self.unknown:
            lines.append(f"<unk>: {self.unknown:,} of the {self.tokens:,} tokens "
                         f"({self.unknown / self.tokens:.2%}); they flatter the score")
        if per_token:
            for index, document in enumerate(self.documents, 1):
                tokens = [["token", "nats", "rank"]] + [
                    [self.label(token), f"{nats:.4f}", str(rank)]
                    for token, nats, rank in zip(document.ids[1:].tolist(),
                                                 document.surprisal.tolist(),
                                                 document.ranks.tolist(), strict=True)]
                lines.append(f"\ndocument {index}: {preview(document.text)}")
                lines.append(text_table(tokens, right_aligned={1, 2}))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _cells(figures: _Figures) -> list[str]:
    def shown(value: float | None, digits: int) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    return [f"{figures.tokens:,}", f"{figures.nats:,.3f}", shown(figures.nats_per_token, 4),
            shown(figures.bits_per_char, 4), shown(figures.perplexity, 3)]


def preview(text: str, width: int = 32) -> str:
    """A document on one line, escaped (``\\n``), cut to ``width`` characters."""
    shown = repr(text)[1:-1]
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def score_documents(tokenizer: Any, texts: Iterable[str], read: Reader) -> Scores:
    """Score each of ``texts`` as a document (see the module docstring) through ``read``,
    a backend that runs the model (see :data:`Reader`)."""
    texts = list(texts)
    if not texts:
        raise ZooError("nothing to score: give at least one text")
    rows = [document_row(tokenizer, text) for text in texts]
    read_back = read(rows)
    closes = end_of_text_id(tokenizer) is not None
    documents = []
    for text, row, (nats, ranks) in zip(texts, rows, read_back, strict=True):
        if len(nats) != max(len(row) - 1, 0) or len(ranks) != len(nats):
            raise RuntimeError(f"a scoring backend gave {len(nats)} scores for "
                               f"{max(len(row) - 1, 0)} predicted tokens")
        documents.append(DocumentScore(text, row, np.asarray(nats, dtype=np.float64),
                                       np.asarray(ranks, dtype=np.int64), closes))
    unknown = unknown_id(tokenizer)
    unknown_count = 0 if unknown is None else sum(
        int(np.count_nonzero(row[1:] == unknown)) for row in rows)
    return Scores(documents, functools.lru_cache(maxsize=None)(
        functools.partial(token_label, tokenizer)), unknown_count)


def cut_documents(text: str, documents: str) -> list[str]:
    """The documents of one file's ``text``: the file itself (none if it is empty), each
    paragraph (a run of non-blank lines) or each non-blank line, stripped: the ``text``
    dataset's ``dataset.documents`` rules, so a file scored here is the documents a run
    trained or evaluated on it read."""
    if documents not in DOCUMENTS:
        raise ZooError(f"--documents {documents!r}: choose one of {', '.join(DOCUMENTS)}")
    if documents == "file":
        return [text] if text else []
    return lines_of(text) if documents == "line" else paragraphs_of(text)


def read_documents(paths: Sequence[str | Path], documents: str = "file") -> list[str]:
    """The documents of UTF-8 text files, in order (see :func:`cut_documents`)."""
    found: list[str] = []
    for path in map(Path, paths):
        found += cut_documents(read_text_file(path), documents)
    if not found:
        raise ZooError(f"{', '.join(map(str, paths))} hold no document to score"
                       + ("" if documents == "file" else f" (--documents {documents})"))
    return found


def surprisal_view(document: DocumentScore) -> tuple[np.ndarray, np.ndarray]:
    """A document's tokens as a prompt reads them (the closing end of text left out) and the
    surprisal of each, NaN for the first, which is context: (T,) ids and (T,) nats."""
    end = len(document.ids) - 1 if document.closed else len(document.ids)
    values = np.concatenate(([np.nan], document.surprisal[: end - 1]))  # (T,)
    return document.ids[:end], values
