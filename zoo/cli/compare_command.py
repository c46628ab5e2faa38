"""``zoo compare RUN...``: one table of several runs, and their loss curves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from zoo.cli.common import registry_from


def compare_runs(registry: Any, run_dirs: list[Path], device: str) -> list[dict[str, Any]]:
    """Parameters, full validation metrics, training and sampling speed of each run."""
    import numpy as np

    from zoo.evaluation import evaluate_run, sampling_speed
    from zoo.runs import load_run, read_metrics
    from zoo.training import count_parameters

    rows = []
    for run_dir in run_dirs:
        loaded = load_run(registry, run_dir, device=device)
        evaluation = evaluate_run(registry, loaded)
        speeds = [m["tokens_per_s"] for m in read_metrics(run_dir) if m["split"] == "train"]
        rows.append({
            "run": str(run_dir),
            "architecture": loaded.config.model.name,
            "tokenizer": loaded.config.tokenizer.name,
            "parameters": count_parameters(loaded.model),
            "step": loaded.step,
            "val_loss": evaluation["loss"],
            "bits_per_char": evaluation["bits_per_char"],
            "train_tokens_per_s": float(np.median(speeds)) if speeds else None,
            "sample_tokens_per_s": sampling_speed(loaded.model, loaded.vocab_size),
        })
    return rows


def plot_curves(run_dirs: list[Path], path: Path) -> None:
    """Validation (solid) and training (faint) loss against step and against wall time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zoo.runs import read_metrics

    figure, (by_step, by_time) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for index, run_dir in enumerate(run_dirs):
        metrics = read_metrics(run_dir)
        color = f"C{index % 10}"
        for split, style in (("train", {"alpha": 0.3, "linewidth": 1}), ("val", {"marker": "o"})):
            points = [m for m in metrics if m["split"] == split]
            label = run_dir.name if split == "val" else None
            by_step.plot([m["step"] for m in points], [m["loss"] for m in points],
                         color=color, label=label, **style)
            by_time.plot([m["elapsed_s"] for m in points], [m["loss"] for m in points],
                         color=color, **style)
    by_step.set(xlabel="step", ylabel="loss (nats/token); faint: training",
                title="loss by step")
    by_time.set(xlabel="seconds", title="loss by wall time")
    by_step.legend(fontsize="small")
    for axes in (by_step, by_time):
        axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--plot", "plot_path", type=click.Path(path_type=Path),
              help="Write the loss curves to this PNG file.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def compare_command(ctx: click.Context, runs: tuple[Path, ...], plot_path: Path | None,
                    device: str, as_json: bool) -> None:
    """Compare trained RUNS: parameters, val loss, bits/char, training and sampling speed."""
    from zoo.devices import resolve_device

    rows = compare_runs(registry_from(ctx), list(runs), str(resolve_device(device)))
    if plot_path is not None:
        plot_curves(list(runs), plot_path)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    header = ["run", "arch", "params", "val loss", "bits/char", "train tok/s", "sample tok/s"]
    table = [header] + [
        [
            Path(r["run"]).name, r["architecture"], f"{r['parameters'] / 1e6:.2f}M",
            f"{r['val_loss']:.4f}", f"{r['bits_per_char']:.3f}",
            f"{r['train_tokens_per_s']:,.0f}" if r["train_tokens_per_s"] else "-",
            f"{r['sample_tokens_per_s']:,.0f}",
        ]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.rjust(w) if i >= 2 else cell.ljust(w)
                             for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())
    if plot_path is not None:
        click.echo(f"loss curves: {plot_path}")
