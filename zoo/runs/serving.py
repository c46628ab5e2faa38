"""Serving a static folder (a web export) on localhost, with the types browsers insist on.

The standard library's server is enough for a page that runs the model in the
browser: nothing is computed on the server. ES modules must come as
JavaScript and WebAssembly as ``application/wasm`` (streaming compilation
refuses anything else), whatever this machine's MIME table says.
"""

from __future__ import annotations

import errno
import functools
import http.server
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

#: The content types a web export needs, set here rather than read from the system.
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript",
                 ".mjs": "text/javascript", ".wasm": "application/wasm",
                 ".json": "application/json", ".md": "text/markdown; charset=utf-8",
                 ".onnx": "application/octet-stream", ".npy": "application/octet-stream"}
PAGE = "index.html"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from one folder; no request log, no caching of a re-exported model."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


def web_server(folder: Path, host: str = "127.0.0.1", port: int = 8000
               ) -> http.server.ThreadingHTTPServer:
    """A server for ``folder`` (which must hold a page); ``port`` 0 picks a free one."""
    folder = Path(folder)
    if not (folder / PAGE).is_file():
        what = "does not exist" if not folder.exists() else f"has no {PAGE}"
        raise ZooError(f"{str(folder)!r} {what}, so it is not a web export; "
                       "make one with `zoo export RUN --web`")
    handler = functools.partial(QuietHandler, directory=str(folder))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ZooError(f"port {port} on {host} is in use; choose another with --port N "
                           "(--port 0 picks a free one)") from None
        raise ZooError(f"cannot serve on {host}:{port}: {error.strerror or error}") from None


def page_url(server: http.server.ThreadingHTTPServer) -> str:
    """The address of the page the server serves."""
    host, port = server.server_address[:2]
    address = host.decode() if isinstance(host, bytes) else host  # typeshed allows bytes
    return f"http://{address}:{port}/"
