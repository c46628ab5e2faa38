"""``zoo list``: every registered component and trained model, and the plugins that broke."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from zoo.analysis.tables import text_table
from zoo.api import components as registered_components
from zoo.api import pretrained as pretrained_models
from zoo.cli.common import registry_from
from zoo.registry.components import LIST_KINDS, PRETRAINED
from zoo.registry.host import Registry


def _listing(registry: Registry, kind: str | None, pattern: str | None,
             details: bool = True) -> dict[str, Any]:
    """What ``zoo list`` shows; ``details`` reads each pretrained model's files for its
    architecture, parameters, loss and size (the plain table needs only names)."""
    components = [] if kind == PRETRAINED else [
        {
            "kind": c.kind,
            "name": c.name,
            "summary": c.summary,
            "distribution": c.provider.distribution,
            "version": c.provider.version,
            "plugin": c.provider.plugin,
            "config": dataclasses.asdict(c.default_config()),
            "train_defaults": dict(c.train_defaults),
        }
        for c in registered_components(kind, pattern, registry=registry)
    ]
    broken = [
        {"plugin": b.provider.plugin, "distribution": b.provider.distribution,
         "version": b.provider.version, "error": b.error}
        for b in registry.broken
    ]
    conflicts = [
        {"kind": c.kind, "name": c.name, "error": c.message(),
         "providers": [p.distribution for p in c.providers]}
        for c in registry.conflicts.values()
        if kind in (None, c.kind)
    ]
    if kind not in (None, PRETRAINED):
        models = []
    elif details:
        models = pretrained_models(pattern, registry=registry)
    else:
        models = [{"name": m.name, "summary": m.summary, "distribution": m.provider.distribution,
                   "version": m.provider.version} for m in registry.select_pretrained(pattern)]
    return {"components": components, "pretrained": models, "broken": broken,
            "conflicts": conflicts}


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


def _pretrained_table(models: list[dict[str, Any]]) -> str:
    """NAME, ARCHITECTURE, PARAMETERS, DATASET, VAL LOSS, BITS/CHAR, SIZE, PROVIDER."""
    rows = [["NAME", "ARCHITECTURE", "PARAMETERS", "DATASET", "VAL LOSS", "BITS/CHAR", "SIZE",
             "PROVIDER"]]
    for m in models:
        scored = m["val_loss"] is not None
        rows.append([m["name"], m["architecture"], f"{m['parameters']:,}", m["dataset"],
                     f"{m['val_loss']:.4f}" if scored else "-",
                     f"{m['bits_per_char']:.3f}" if scored else "-", _size(m["size_bytes"]),
                     f"{m['distribution']} {m['version']}"])
    return text_table(rows)


def _settings(values: dict[str, Any]) -> str:
    """``lr=0.002, weight_decay=0.1, stateful=true``: train settings as ``--set`` takes them."""
    def shown(value: Any) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        return f"{value:g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{key}={shown(value)}" for key, value in values.items())


def _show_train_defaults(components: list[dict[str, Any]]) -> None:
    """Under the table, the train settings each architecture shown suggests (``zoo train``
    starts from them); for one architecture alone, also that it suggests none."""
    suggesting = [c for c in components if c["train_defaults"]]
    if suggesting:
        click.echo("\ntrain defaults suggested (zoo train uses them; --set train.KEY=VALUE "
                   "wins):")
        click.echo(text_table([[f"  {c['name']}", _settings(c["train_defaults"])]
                               for c in suggesting]))
    elif len(components) == 1 and components[0]["kind"] == "architecture":
        click.echo(f"\n{components[0]['name']} suggests no train defaults: zoo train uses the "
                   "train section's own")


@click.command("list")
@click.argument("pattern", required=False)
@click.option("--kind", type=click.Choice(LIST_KINDS),
              help="Only components of this kind; pretrained: the trained models, with their "
                   "size and validation loss.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_command(ctx: click.Context, pattern: str | None, kind: str | None, as_json: bool) -> None:
    """List registered components and pretrained models; PATTERN filters names (substring or
    glob like 'gru*')."""
    listing = _listing(registry_from(ctx), kind, pattern, details=as_json or kind == PRETRAINED)
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    rows = [["KIND", "NAME", "PROVIDER", "SUMMARY"]]
    rows += [[c["kind"], c["name"], f"{c['distribution']} {c['version']}", c["summary"]]
             for c in listing["components"]]
    if kind == PRETRAINED and listing["pretrained"]:
        click.echo(_pretrained_table(listing["pretrained"]))
    elif kind == PRETRAINED:
        click.echo("no pretrained models " + (f"match {pattern!r}" if pattern else
                   "are installed; pip install ./plugins/pretrained (zoo-lm-pretrained)"))
    elif len(rows) == 1:
        click.echo("no components match" + (f" {pattern!r}" if pattern else ""))
    else:
        click.echo(text_table(rows))
    _show_train_defaults(listing["components"])
    if kind is None and listing["pretrained"]:  # their own table has room for their figures
        count = len(listing["pretrained"])
        models = f"{count} pretrained model{'s' if count > 1 else ''}"
        matching = f"{'match' if count > 1 else 'matches'}: zoo list --kind pretrained {pattern}"
        click.echo(f"\n{models} {matching}" if pattern else
                   f"\n{models} installed: zoo list --kind pretrained")
    for conflict in listing["conflicts"]:
        click.echo(f"\nconflict: {conflict['error']}")
    if listing["broken"]:
        click.echo("\nbroken plugins:")
        for broken in listing["broken"]:
            click.echo(
                f"  {broken['plugin']} ({broken['distribution']} {broken['version']}): "
                f"{broken['error']}"
            )
