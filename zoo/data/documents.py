"""Document boundaries: the end-of-text token, and how documents become training rows.

A tokenizer names its end-of-text token in ``end_of_text`` (a key of its
``special_tokens``) and its unknown token in ``unknown``; either may be absent
(``None``, or no attribute at all for an older third-party tokenizer), and
then the stream has no boundaries, as before. torch-free.

A corpus of documents d1, d2, ... is encoded as ``EOT d1 EOT d2 EOT ... dn EOT``:
every document both starts after and ends with the token, so a model learns
how documents begin (sampling from ``EOT`` alone starts a new one) and when
they end (sampling stops at it).

Two ways to train on them, chosen by the dataset's ``rows`` option:

- ``packed``: random windows over the whole stream, which may cross from one
  document into the next (nanoGPT's way; right for long prose);
- ``padded``: one document per batch row, ``EOT doc EOT`` padded to the
  longest row of the batch, the loss masked on the padding (makemore's and
  GruLM's way; right for short items such as names). A document longer than
  ``block_size`` tokens is cut into consecutive windows, each its own row,
  so no token is dropped; only the first window starts at ``EOT``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Values of a dataset's ``rows`` option: ``packed`` joins documents with end-of-text and
#: cuts windows; ``padded`` gives each its own row.
ROWS = ("packed", "padded")

#: The target id of padding, which the loss ignores (``F.cross_entropy(ignore_index=...)``).
PAD_TARGET = -1


def special_id(tokenizer: Any, attribute: str) -> int | None:
    """The id of the special token that ``tokenizer.<attribute>`` names, or None."""
    name = getattr(tokenizer, attribute, None)
    if name is None:
        return None
    return int(tokenizer.special_tokens[name])


def end_of_text_id(tokenizer: Any) -> int | None:
    """The tokenizer's end-of-text id, or None when it has none."""
    return special_id(tokenizer, "end_of_text")


def unknown_id(tokenizer: Any) -> int | None:
    """The tokenizer's unknown-token id, or None when nothing is unknown to it."""
    return special_id(tokenizer, "unknown")


def unknown_count(ids: np.ndarray, tokenizer: Any) -> int:
    """How many of ``ids`` are the tokenizer's unknown token (0 when it has none)."""
    unknown = unknown_id(tokenizer)
    return 0 if unknown is None else int(np.count_nonzero(np.asarray(ids) == unknown))


def unknown_note(stream: Any, tokenizer: Any) -> str:
    """``" (N of them <unk>, x%)"`` for a stream with text its tokenizer cannot represent,
    else ``""``.

    Such text becomes ``<unk>``, which is easy to predict: a loss or bits per
    character measured over it looks better than the model is.
    """
    count = unknown_count(stream.ids, tokenizer)
    if not count:
        return ""
    return f" ({count:,} of them <unk>, {count / max(1, len(stream.ids)):.2%})"


def rows_of(dataset_config: Any) -> str:
    """How a dataset's documents are trained: its ``rows`` option; where that is unset (None),
    the config's ``default_rows`` (a dataset may choose by its other options), else packed."""
    rows = getattr(dataset_config, "rows", None)
    if rows is None:
        rows = getattr(dataset_config, "default_rows", "packed")
    return str(rows)


def document_windows(ids: np.ndarray, end_of_text: int, block_size: int) -> np.ndarray:
    """The (start, length) of every padded row in a stream ``EOT d1 EOT d2 ... EOT``: (N, 2).

    A row is a document with the end-of-text tokens around it (inputs are
    ``row[:-1]``, targets ``row[1:]``), at most ``block_size + 1`` tokens; a
    longer document continues in the next row, which overlaps it by one token.
    """
    bounds = np.flatnonzero(np.asarray(ids) == end_of_text)  # (D + 1,) positions of EOT
    starts: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        span = int(last - first) + 1  # EOT doc EOT
        offsets = np.arange(0, max(span - 1, 1), block_size)  # windows that overlap by one
        starts.append(first + offsets)
        lengths.append(np.minimum(span - offsets, block_size + 1))
    if not starts:
        return np.zeros((0, 2), dtype=np.int64)
    return np.stack((np.concatenate(starts), np.concatenate(lengths)), axis=1).astype(np.int64)


def padded_rows(ids: np.ndarray, windows: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets (B, T) for ``windows`` (B, 2), padded to the longest row.

    Inputs are padded with ``pad`` (any valid id; its predictions are masked),
    targets with :data:`PAD_TARGET`.
    """
    width = int(windows[:, 1].max()) - 1  # T
    inputs = np.full((len(windows), width), pad, dtype=np.int64)
    targets = np.full((len(windows), width), PAD_TARGET, dtype=np.int64)
    for row, (start, length) in enumerate(windows.tolist()):
        tokens = np.asarray(ids[start : start + length], dtype=np.int64)
        inputs[row, : length - 1] = tokens[:-1]
        targets[row, : length - 1] = tokens[1:]
    return inputs, targets


def paragraphs_of(text: str) -> list[str]:
    """The runs of non-blank lines of ``text``, each run joined with newlines: the documents
    of ``dataset.documents=paragraph`` and ``zoo score --documents paragraph``.

    A blank line is empty or whitespace only; ``\\r\\n`` line ends become ``\\n``.
    """
    found: list[str] = []
    current: list[str] = []
    for line in [*text.replace("\r\n", "\n").split("\n"), ""]:
        if line.strip():
            current.append(line)
        elif current:
            found.append("\n".join(current))
            current = []
    return found


def lines_of(text: str) -> list[str]:
    """The non-blank lines of ``text``, stripped of surrounding whitespace: the documents of
    ``dataset.documents=line`` and ``zoo score --documents line`` (makemore's items)."""
    return [line.strip() for line in text.split("\n") if line.strip()]
