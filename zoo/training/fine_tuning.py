"""Starting a run from another run's weights and tokenizer (``--init-from RUN``).

nanoGPT's ``init_from``: the new run takes the source run's architecture,
model config, tokenizer and weights, and trains them with a new optimizer,
schedule and data.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.files.reading import short_reason
from zoo.models.loading import load_run
from zoo.registry.host import Registry
from zoo.runs.pretrained import locate_run


def source_run(registry: Registry, init_from: str | Path) -> Any:
    """The run to start from (a run directory or a pretrained model's name), loaded on the
    CPU; a ZooError names what is wrong with it."""
    location = locate_run(registry, init_from)
    if not location.directory.is_dir():
        raise ZooError(f"--init-from {str(init_from)!r}: no such run directory or pretrained "
                       "model (see zoo list --kind pretrained)")
    return load_run(registry, location.directory)


def recorded_source(registry: Registry, init_from: str | Path) -> str:
    """How a fine-tuned run's config records its source: a pretrained model by its name (which
    any machine with the package resolves), a run directory by its absolute path."""
    location = locate_run(registry, init_from)
    return location.pretrained.name if location.pretrained else str(Path(init_from).absolute())


def starting_sections(registry: Registry, init_from: str | Path, architecture: str,
                      tokenizer: str | None) -> dict[str, dict[str, Any]]:
    """The ``model`` and ``tokenizer`` config sections of the source run, which a fine-tuned
    run keeps; a different architecture or tokenizer asked for is refused."""
    source = source_run(registry, init_from)
    model, token = source.config.model, source.config.tokenizer
    if architecture != model.name:
        raise ZooError(f"--init-from {str(init_from)!r} is a {model.name!r} run; fine-tune it "
                       f"with `zoo train {model.name} --init-from ...`")
    if tokenizer is not None and tokenizer != token.name:
        raise ZooError(f"--init-from {str(init_from)!r} uses the {token.name!r} tokenizer, "
                       "which a fine-tuned run keeps; drop --tokenizer")
    return {"model": {"name": model.name, **dataclasses.asdict(model.config)},
            "tokenizer": {"name": token.name, **dataclasses.asdict(token.config)}}


def load_starting_weights(model: Any, source: Any) -> None:
    """Copy the weights of ``source`` (from :func:`source_run`) into ``model``; a model of
    another size is refused."""
    try:
        model.load_state_dict(source.model.state_dict(), strict=True)
    except RuntimeError as error:
        raise ZooError(f"--init-from {str(source.directory)!r}: its weights do not fit this "
                       f"model ({short_reason(error)}); leave out the --set model.* that "
                       "changes its size") from None
