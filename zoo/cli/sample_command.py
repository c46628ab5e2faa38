"""``zoo sample RUN``: generate text from a trained run, streaming it to the terminal."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.cli.common import registry_from


@click.command("sample")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--prompt", default="", help="Text to continue (default: start from a newline).")
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0), default=0.8, show_default=True,
              help="0 is greedy decoding.")
@click.option(
    "--top-k", type=click.IntRange(min=1), help="Sample only from the k likeliest tokens."
)
@click.option("--top-p", type=click.FloatRange(min=0, max=1, min_open=True),
              help="Nucleus sampling: the smallest set of tokens with probability >= p.")
@click.option("--seed", type=int, help="Seed for reproducible samples.")
@click.option("--num-samples", type=click.IntRange(min=1), default=1, show_default=True,
              help="Independent samples, generated as one batch.")
@click.option("--device", default="cpu", show_default=True, help="auto, cpu, cuda or mps.")
@click.pass_context
def sample_command(
    ctx: click.Context,
    run: Path,
    prompt: str,
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    seed: int | None,
    num_samples: int,
    device: str,
) -> None:
    """Sample text from the trained run in directory RUN."""
    from zoo.decoding import SamplingSettings
    from zoo.devices import resolve_device
    from zoo.runs import load_run
    from zoo.sampling import generate

    registry = registry_from(ctx)
    settings = SamplingSettings(temperature=temperature, top_k=top_k, top_p=top_p)
    loaded = load_run(registry, run, device=str(resolve_device(device)))
    if num_samples == 1:
        click.echo(prompt, nl=False)
        generate(
            loaded.model, loaded.tokenizer, prompt=prompt, max_new_tokens=max_new_tokens,
            settings=settings, seed=seed, on_text=lambda text: click.echo(text, nl=False),
        )
        click.echo()
        return
    texts = generate(
        loaded.model, loaded.tokenizer, prompt=prompt, max_new_tokens=max_new_tokens,
        settings=settings, num_samples=num_samples, seed=seed,
    )
    for index, text in enumerate(texts, start=1):
        click.echo(f"--- sample {index} ---\n{prompt}{text}")
