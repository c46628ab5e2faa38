"""``zoo sample RUN|EXPORT`` (or ``--onnx DIR``): text from a trained run or an export, and
``-i``, the chat loop with no turn markers."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import click

from zoo.cli.chat_command import talk
from zoo.cli.columns import side_by_side
from zoo.cli.sources import load_source
from zoo.config.threads import set_cpu_threads
from zoo.errors import ZooError


@click.command("sample")
@click.argument("run", metavar="RUN|EXPORT", type=click.Path(path_type=Path), required=False)
@click.option("--onnx", "onnx_dir", type=click.Path(path_type=Path),
              help="Sample from this export directory with onnxruntime (no torch); the same "
                   "as giving the export directory as RUN|EXPORT.")
@click.option("--prompt", default="",
              help="Text to continue (default: start a new document, after the end-of-text "
                   "token; a tokenizer without one starts from a newline).")
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--temperature", default="0.8", show_default=True,
              help="0 is greedy decoding; several, comma-separated (0.5,0.8,1.2), print one "
                   "sample for each side by side.")
@click.option(
    "--top-k", type=click.IntRange(min=1), help="Sample only from the k likeliest tokens."
)
@click.option("--top-p", type=click.FloatRange(min=0, max=1, min_open=True),
              help="Nucleus sampling: the smallest set of tokens with probability >= p.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed for reproducible samples.")
@click.option("--num-samples", type=click.IntRange(min=1), default=1, show_default=True,
              help="Independent samples, generated as one batch.")
@click.option("--stop", multiple=True, metavar="TEXT",
              help="End a sample just before this text (repeatable; on decoded text).")
@click.option("--ignore-eot", is_flag=True,
              help="Keep going past the end-of-text token instead of ending the sample.")
@click.option("--novelty", is_flag=True,
              help="Say how many samples are new and how many are in the training data.")
@click.option("-i", "--interactive", is_flag=True,
              help="Read prompts from the terminal, one a line, and continue each, the "
                   "model's state carried from one to the next (zoo chat with no turn markers).")
@click.option("--device", help="auto, cpu (default), cuda or mps; a run only (an export "
              "runs on onnxruntime's CPU).")
@click.option("--threads", type=click.IntRange(min=1),
              help="CPU threads for torch or onnxruntime (default: one per physical core); "
                   "fewer can be much faster on a busy machine.")
@click.pass_context
def sample_command(ctx: click.Context, run: Path | None, onnx_dir: Path | None, prompt: str,
                   max_new_tokens: int, temperature: str, top_k: int | None,
                   top_p: float | None, seed: int | None, num_samples: int,
                   stop: tuple[str, ...], ignore_eot: bool, novelty: bool, interactive: bool,
                   device: str | None, threads: int | None) -> None:
    """Sample text from the trained run or the export in RUN|EXPORT (an export directory, one
    with manifest.json, samples with onnxruntime, without torch)."""
    set_cpu_threads(threads)
    if (run is None) == (onnx_dir is None):
        raise ZooError("give a run or an export directory, or --onnx EXPORT_DIR (not both)")
    if onnx_dir is not None and device not in (None, "cpu"):
        raise ZooError(f"--device {device}: an export samples on onnxruntime's CPU provider; "
                       "drop --device, or sample the run itself on that device")
    temperatures = parse_temperatures(temperature)
    if len(temperatures) > 1 and (num_samples > 1 or novelty):
        raise ZooError("several --temperature values give one sample each; drop "
                       "--num-samples and --novelty, or give one temperature")
    if interactive:
        refused = [name for name, given in [
            ("--prompt", prompt), ("--num-samples", num_samples > 1), ("--novelty", novelty),
            ("--stop", stop), ("--ignore-eot", ignore_eot),
            ("several --temperature values", len(temperatures) > 1)] if given]
        if refused:
            raise ZooError(f"-i reads each prompt from the terminal: drop {', '.join(refused)}")
    # an export samples with onnxruntime and numpy only: torch is never imported
    source = load_source(ctx, onnx_dir or run, device,  # type: ignore[arg-type]
                         export=onnx_dir is not None)
    if interactive:
        talk(source.chat(user="", reply="", max_new_tokens=max_new_tokens,
                         temperature=temperatures[0], top_k=top_k, top_p=top_p, seed=seed),
             "", echo_words=True)
        return
    options: dict[str, Any] = {"max_new_tokens": max_new_tokens, "temperature": temperatures[0],
                               "top_k": top_k, "top_p": top_p, "seed": seed, "stop": stop,
                               "ignore_end_of_text": ignore_eot}
    if len(temperatures) > 1:  # the char-rnn chapter's comparison: the same seed, side by side
        texts = [source.sample(prompt, **{**options, "temperature": t})[0]
                 for t in temperatures]
        titles = [f"temperature {t:g}" for t in temperatures]
        click.echo(side_by_side(titles, texts, shutil.get_terminal_size().columns))
        return
    if num_samples == 1 and not novelty:
        pieces = source.stream(prompt, **options)
        first = next(pieces, "")  # a prompt the tokenizer refuses fails here, before any output
        click.echo(prompt + first, nl=False)
        for piece in pieces:
            click.echo(piece, nl=False)
        click.echo()
        return
    texts = source.sample(prompt, num_samples=num_samples, **options)
    for index, text in enumerate(texts, 1):
        click.echo(f"--- sample {index} ---\n{text}")
    if novelty:
        click.echo(str(source.novelty(texts)))


def parse_temperatures(text: str) -> list[float]:
    """``--temperature``'s value: one number, or several separated by commas, each >= 0."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ZooError(f"--temperature {text!r}: give a number, or numbers separated by "
                       "commas (0.5,0.8,1.2)") from None
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ZooError(f"--temperature {text!r}: each temperature must be a number >= 0")
    return values
