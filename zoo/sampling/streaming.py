"""Streaming: text a sampler makes, handed out piece by piece as it is made."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any


class _Stopped(Exception):
    """Raised inside the worker when the consumer has stopped iterating."""


def stream_pieces(generate: Callable[..., list[str]], options: dict[str, Any]) -> Iterator[str]:
    """Yield the text ``generate(**options, num_samples=1, on_text=...)`` makes, as it is made.

    ``generate`` runs in a worker thread. When the iteration stops early (the
    consumer breaks out, or the generator is closed or collected), the worker
    stops at its next piece and is joined before this generator finishes, so
    no thread outlives the stream.
    """
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def on_text(text: str) -> None:
        if stop.is_set():
            raise _Stopped
        pieces.put(("text", text))

    def work() -> None:
        try:
            generate(**options, num_samples=1, on_text=on_text)
            pieces.put(("done", None))
        except _Stopped:
            pass
        except BaseException as error:  # re-raised in the consumer's thread
            pieces.put(("error", error))

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        while True:
            kind, value = pieces.get()
            if kind == "text":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        worker.join()
