"""``zoo list``: every registered component, and the plugins that broke."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from zoo.analysis.tables import text_table
from zoo.api import components as registered_components
from zoo.cli.common import registry_from
from zoo.registry.components import KINDS
from zoo.registry.host import Registry


def _listing(registry: Registry, kind: str | None, pattern: str | None) -> dict[str, Any]:
    components = [
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
    return {"components": components, "broken": broken, "conflicts": conflicts}


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
@click.option("--kind", type=click.Choice(KINDS), help="Only components of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_command(ctx: click.Context, pattern: str | None, kind: str | None, as_json: bool) -> None:
    """List registered components; PATTERN filters names (substring or glob like 'gru*')."""
    listing = _listing(registry_from(ctx), kind, pattern)
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    rows = [["KIND", "NAME", "PROVIDER", "SUMMARY"]]
    rows += [
        [c["kind"], c["name"], f"{c['distribution']} {c['version']}", c["summary"]]
        for c in listing["components"]
    ]
    if len(rows) == 1:
        click.echo("no components match" + (f" {pattern!r}" if pattern else ""))
    else:
        click.echo(text_table(rows))
    _show_train_defaults(listing["components"])
    for conflict in listing["conflicts"]:
        click.echo(f"\nconflict: {conflict['error']}")
    if listing["broken"]:
        click.echo("\nbroken plugins:")
        for broken in listing["broken"]:
            click.echo(
                f"  {broken['plugin']} ({broken['distribution']} {broken['version']}): "
                f"{broken['error']}"
            )
