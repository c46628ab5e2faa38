"""The token cache: each (dataset content, tokenizer) pair is encoded once.

Token streams are stored as ``.npy`` files under ``$ZOO_CACHE/tokens/KEY/``
(default: the platform's user cache directory) and memory-mapped on later
runs. ``KEY`` is a hash of the text of every split and of the files the
trained tokenizer saves, so a changed corpus or a differently trained
tokenizer gets a new entry and a stale one is never read. An entry is
written atomically (:func:`zoo.files.atomic.atomic_directory`); every use of the
cache removes the temporaries that killed processes left in ``tokens/``. A
cache that cannot be written is no error, but a full disk is, with the entry
named and nothing half-written left.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from platformdirs import user_cache_dir

from zoo.data.streams import TokenStream, encode_documents
from zoo.files import atomic
from zoo.files.write_errors import DISK_FULL
from zoo.registry.contracts import SPLITS, Dataset, Tokenizer

CACHE_FORMAT = 2  # 2: documents separated by the end-of-text token


def cache_root() -> Path:
    """``$ZOO_CACHE``, else the user cache directory (``~/.cache/zoo`` on Linux)."""
    configured = os.environ.get("ZOO_CACHE")
    if configured:
        return Path(configured).expanduser()

    return Path(user_cache_dir("zoo"))


def tokenizer_fingerprint(tokenizer: Tokenizer) -> str:
    """A hash of the tokenizer's type and of everything its ``save`` writes."""
    digest = hashlib.sha256(f"{type(tokenizer).__module__}.{type(tokenizer).__qualname__}".encode())
    with tempfile.TemporaryDirectory() as scratch:
        with atomic.naming_write_failures(Path(scratch)):  # whatever the tokenizer's writer raised
            tokenizer.save(Path(scratch))
        for path in sorted(Path(scratch).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(scratch).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def texts_fingerprint(texts: dict[str, list[str]]) -> str:
    digest = hashlib.sha256()
    for split in sorted(texts):
        digest.update(f"{split}:{len(texts[split])}".encode())
        for document in texts[split]:
            encoded = document.encode("utf-8")
            digest.update(len(encoded).to_bytes(8, "little"))
            digest.update(encoded)
    return digest.hexdigest()


def cached_splits(
    dataset: Dataset, tokenizer: Tokenizer, root: Path | None = None
) -> dict[str, TokenStream]:
    """Every split encoded with ``tokenizer``, read from the cache when it is there."""
    texts = {split: dataset.texts(split) for split in SPLITS}
    key = hashlib.sha256(
        f"{CACHE_FORMAT}|{tokenizer_fingerprint(tokenizer)}|{texts_fingerprint(texts)}".encode()
    ).hexdigest()[:32]
    entry = (root or cache_root()) / "tokens" / key
    atomic.remove_stale_temporaries(entry.parent)
    if (entry / "meta.json").exists():
        return _read_entry(entry)
    streams = {split: encode_documents(tokenizer, texts[split]) for split in SPLITS}
    try:
        _write_entry(entry, streams)
    except OSError as error:
        # A full disk is said (the next write would fail too); an unwritable cache, or
        # another process writing the same entry first, is no error.
        if error.errno in DISK_FULL:
            raise OSError(error.errno, f"{error.strerror} (the token cache; ZOO_CACHE=DIR "
                          "moves it to another disk)", error.filename) from error
    return streams


def _write_entry(entry: Path, streams: dict[str, TokenStream]) -> None:
    meta = {
        "format": CACHE_FORMAT,
        "splits": {
            split: {"tokens": len(s.ids), "chars": s.num_chars, "bytes": s.num_bytes,
                    "end_of_text": s.end_of_text}
            for split, s in streams.items()
        },
    }
    with atomic.atomic_directory(entry) as temp:
        for split, stream in streams.items():
            np.save(temp / f"{split}.npy", stream.ids)
        (temp / "meta.json").write_text(json.dumps(meta, indent=2))


def _read_entry(entry: Path) -> dict[str, TokenStream]:
    meta = json.loads((entry / "meta.json").read_text())
    return {
        split: TokenStream(
            np.load(entry / f"{split}.npy", mmap_mode="r"),
            num_chars=info["chars"],
            num_bytes=info["bytes"],
            end_of_text=info["end_of_text"],
        )
        for split, info in meta["splits"].items()
    }
