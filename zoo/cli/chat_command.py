"""``zoo chat RUN|EXPORT``: talk with a trained run or an export, its state carried from turn
to turn."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.cli.sources import DEVICE_HELP, load_source
from zoo.sampling.chat import Chat


@click.command("chat")
@click.argument("run", metavar="RUN|EXPORT", type=click.Path(path_type=Path))
@click.option("--user", default="<prompt> ", show_default=True,
              help="What starts the user's part of each turn.")
@click.option("--reply", default=" <ai> ", show_default=True,
              help="What comes between the user's words and the model's reply.")
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0), default=0.8, show_default=True)
@click.option("--top-k", type=click.IntRange(min=1))
@click.option("--top-p", type=click.FloatRange(min=0, max=1, min_open=True))
@click.option("--seed", type=click.IntRange(min=0), help="Seed for reproducible replies.")
@click.option("--device", help=DEVICE_HELP)
@click.pass_context
def chat_command(ctx: click.Context, run: Path, user: str, reply: str, max_new_tokens: int,
                 temperature: float, top_k: int | None, top_p: float | None, seed: int | None,
                 device: str | None) -> None:
    """Talk with the trained run (or the export) in RUN|EXPORT; an empty line or Ctrl-D
    ends it.

    Each turn is one document, USER + your words + REPLY + the model's reply
    (GruLM's "<prompt> ... <ai> ..." by default); the reply ends at end of
    text, at the start of another turn, or at --max-new-tokens.
    """
    conversation = load_source(ctx, run, device).chat(
        user=user, reply=reply, max_new_tokens=max_new_tokens, temperature=temperature,
        top_k=top_k, top_p=top_p, seed=seed)
    talk(conversation, "ai: ")


def talk(conversation: Chat, answer: str, *, echo_words: bool = False) -> None:
    """The loop: read a line, stream the model's answer after ``answer`` (the user's words
    first, with ``echo_words``), until an empty line or the end of input."""
    while True:
        try:
            words = click.prompt("Enter your prompt", default="", show_default=False,
                                 prompt_suffix=": ")
        except click.Abort:  # Ctrl-D (end of input) or Ctrl-C at the prompt: the talk ends
            click.echo()
            return
        if not words.strip():
            return
        click.echo(answer + (words if echo_words else ""), nl=False)
        conversation.say(words, on_text=lambda text: click.echo(text, nl=False))
        click.echo()
