"""``zoo score RUN|EXPORT FILE...``: how well a model predicts any text, document by document."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zoo.analysis.scoring import DOCUMENTS, cut_documents, read_documents
from zoo.cli.sources import DEVICE_HELP, load_source
from zoo.errors import ZooError


@click.command("score")
@click.argument("source", metavar="RUN|EXPORT", type=click.Path(path_type=Path))
@click.argument("files", metavar="[FILE]...", nargs=-1, type=click.Path(path_type=Path))
@click.option("--text", help="Score this text instead of files.")
@click.option("--documents", type=click.Choice(DOCUMENTS), default="file", show_default=True,
              help="One document: each file (or the --text) whole, each paragraph, or each "
                   "non-blank line (the text dataset's rules).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--per-token", is_flag=True,
              help="Also each token's surprisal (nats) and rank (1: the model's first choice).")
@click.option("--device", help=DEVICE_HELP)
@click.pass_context
def score_command(ctx: click.Context, source: Path, files: tuple[Path, ...], text: str | None,
                  documents: str, as_json: bool, per_token: bool, device: str | None) -> None:
    """Score text under the trained run or the export in RUN|EXPORT: per document and in total,
    tokens, nats, nats/token, bits/char and perplexity.

    Each document is read as training read it, end of text on both sides: every
    token and the closing end of text is predicted, as `zoo eval` predicts them.
    """
    if bool(files) == (text is not None):
        raise ZooError("give the files to score, or --text TEXT (not both)")
    texts = read_documents(files, documents) if files else cut_documents(text or "", documents)
    model = load_source(ctx, source, device)
    scores = model.score(texts)
    if as_json:
        click.echo(json.dumps({"source": str(source), "architecture": model.architecture,
                               **scores.to_dict(per_token)}, indent=2))
        return
    count = f"{len(texts):,} document" + ("s" if len(texts) > 1 else "")
    click.echo(f"{source} ({model.architecture}, {count})")
    click.echo(scores.table(per_token))
