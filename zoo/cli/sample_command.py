"""``zoo sample RUN``: generate text from a trained run, streaming it to the terminal."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import click

from zoo.cli.common import registry_from
from zoo.errors import ZooError


def exported_generate(registry: Any, export_dir: Path) -> Any:
    """The ``generate`` of the exporter that wrote ``export_dir`` (named in its manifest)."""
    import json

    manifest = export_dir / "manifest.json"
    if not manifest.exists():
        what = "does not exist" if not export_dir.exists() else "has no manifest.json"
        raise ZooError(f"export directory {str(export_dir)!r} {what}; "
                       "make one with `zoo export RUN --onnx`")
    data = json.loads(manifest.read_text("utf-8"))
    name = data.get("exporter", "onnx")
    recorded = (data.get("providers") or {}).get("exporter")
    component = registry.get_recorded("exporter", name, recorded, "this export")
    exporter = component.load_factory()(component.default_config())
    if not hasattr(exporter, "generate"):
        raise ZooError(f"the {name!r} exporter cannot sample from its exports")
    return exporter.generate


@click.command("sample")
@click.argument("run", type=click.Path(path_type=Path), required=False)
@click.option("--onnx", "onnx_dir", type=click.Path(path_type=Path),
              help="Sample from this export directory with onnxruntime (no torch).")
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
    run: Path | None,
    onnx_dir: Path | None,
    prompt: str,
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    seed: int | None,
    num_samples: int,
    device: str,
) -> None:
    """Sample text from the trained run in directory RUN, or from an export with --onnx DIR."""
    from zoo.decoding import SamplingSettings

    if (run is None) == (onnx_dir is None):
        raise ZooError("give a run directory, or --onnx EXPORT_DIR (not both)")
    registry = registry_from(ctx)
    settings = SamplingSettings(temperature=temperature, top_k=top_k, top_p=top_p)
    options: dict[str, Any] = {"prompt": prompt, "max_new_tokens": max_new_tokens,
                               "settings": settings, "num_samples": num_samples, "seed": seed}
    if onnx_dir is not None:  # onnxruntime and numpy only: torch is never imported
        sample = functools.partial(exported_generate(registry, onnx_dir), registry, onnx_dir)
    else:
        assert run is not None  # exactly one of run and onnx_dir was checked above
        from zoo.devices import resolve_device
        from zoo.runs import load_run
        from zoo.sampling import generate

        loaded = load_run(registry, run, device=str(resolve_device(device)))
        sample = functools.partial(generate, loaded.model, loaded.tokenizer)
    if num_samples == 1:
        click.echo(prompt, nl=False)
        options["on_text"] = lambda text: click.echo(text, nl=False)
    texts = sample(**options)
    if num_samples == 1:
        click.echo()
        return
    for index, text in enumerate(texts, start=1):
        click.echo(f"--- sample {index} ---\n{prompt}{text}")
