"""``zoo serve EXPORT``: serve a web export on localhost and print its address."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.runs.serving import page_url, web_server


@click.command("serve")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 lets other machines in).")
def serve_command(export: Path, port: int, host: str) -> None:
    """Serve the web EXPORT (from `zoo export RUN --web`) on localhost until Ctrl-C."""
    server = web_server(export, host, port)
    click.echo(f"serving {export} at {page_url(server)} (Ctrl-C stops)", err=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
