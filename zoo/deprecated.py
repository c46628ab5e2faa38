"""zoo 0.1's module paths, kept working for one release with a :class:`DeprecationWarning`.

zoo 0.1 kept its core in one flat folder (``zoo.config``, ``zoo.documents``,
``zoo.loading``, ...); its modules now live in role subpackages, and plugin
authors import from :mod:`zoo.plugin`. A third-party plugin written against
the old paths keeps working: an old module path imports as a stand-in whose
names are looked up where they live now, and an old name read from a module
that became a package (``zoo.config.require``) is found the same way. Either
warns once per name, saying where to import it from.

This module sits at the bottom of the layers: it finds the new modules by
name, when an old path is used, and imports nothing of zoo's itself.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

#: The release that drops the old paths.
REMOVED_IN = "0.3"

#: Old module -> the modules its names live in now, searched in order.
MOVED: dict[str, tuple[str, ...]] = {
    "zoo.atomic": ("zoo.files.atomic",),
    "zoo.paths": ("zoo.files.paths",),
    "zoo.loading": ("zoo.files.reading",),
    "zoo.config": ("zoo.config.values", "zoo.config.training", "zoo.config.sections",
                   "zoo.config.run"),
    "zoo.hookspecs": ("zoo.registry.hookspecs",),
    "zoo.contracts": ("zoo.registry.contracts",),
    "zoo.registry": ("zoo.registry.host", "zoo.registry.components"),
    "zoo.component_factory": ("zoo.registry.factory",),
    "zoo.scaffold": ("zoo.registry.scaffold",),
    "zoo.documents": ("zoo.data.documents",),
    "zoo.data": ("zoo.data.streams", "zoo.data.batches", "zoo.training.data"),
    "zoo.token_cache": ("zoo.data.token_cache",),
    "zoo.data_stats": ("zoo.data.stats", "zoo.analysis.plots"),
    "zoo.runs": ("zoo.runs.run_directory", "zoo.models.loading"),
    "zoo.exporting": ("zoo.runs.export_directory",),
    "zoo.serving": ("zoo.runs.serving",),
    "zoo.devices": ("zoo.models.devices",),
    "zoo.sampling_loop": ("zoo.sampling.loop",),
    "zoo.torch_sampler": ("zoo.sampling.torch_sampler",),
    "zoo.chat": ("zoo.sampling.chat",),
    "zoo.training": ("zoo.training.loop", "zoo.training.interruption"),
    "zoo.steps": ("zoo.training.steps",),
    "zoo.evaluation": ("zoo.training.evaluation",),
    "zoo.metrics": ("zoo.training.metrics",),
    "zoo.optimization": ("zoo.training.optimization",),
    "zoo.checkpointing": ("zoo.training.checkpointing",),
    "zoo.progress": ("zoo.training.progress",),
    "zoo.loggers": ("zoo.training.loggers",),
    "zoo.resume": ("zoo.training.resume",),
    "zoo.fine_tuning": ("zoo.training.fine_tuning",),
    "zoo.distributed": ("zoo.training.distributed",),
    "zoo.interruption": ("zoo.training.interruption",),
    "zoo.inspection": ("zoo.analysis.inspection",),
    "zoo.novelty": ("zoo.analysis.novelty",),
    "zoo.plots": ("zoo.analysis.plots",),
    "zoo.columns": ("zoo.cli.columns",),
    "zoo.api": ("zoo.api.run", "zoo.api.export", "zoo.api.sampler", "zoo.config.run",
                "zoo.sampling.streaming", "zoo.registry.host"),
}

_warned: set[tuple[str, str]] = set()


def _outside_importlib() -> int:
    """The ``stacklevel`` that points a warning at the code doing the import."""
    level = 2
    frame: types.FrameType | None = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith("<frozen importlib")
                                 or frame.f_code.co_filename == __file__
                                 or frame.f_code.co_name == "__getattr__"):
        level, frame = level + 1, frame.f_back
    return level


def _find(old: str, name: str, searched: Sequence[str]) -> tuple[str, Any]:
    if name.startswith("__"):  # the import system's own questions (__path__, __file__, ...)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")
    for new in searched:
        module = importlib.import_module(new)
        if hasattr(module, name):
            return new, getattr(module, name)
    raise AttributeError(f"module {old!r} has no attribute {name!r}")


def moved_name(old: str, name: str) -> Any:
    """``old.name`` of zoo 0.1, from where it lives now, with a warning the first time.

    Raises AttributeError for a name ``old`` never had, so that a package's
    ``__getattr__`` can hand its submodules to the import system as usual.
    """
    new, value = _find(old, name, MOVED[old])
    if (old, name) not in _warned:
        _warned.add((old, name))
        warnings.warn(f"{old}.{name} moved to {new}.{name} (or zoo.plugin, for plugin authors); "
                      f"the old path goes in zoo {REMOVED_IN}", DeprecationWarning,
                      stacklevel=_outside_importlib())
    return value


class _OldModule(types.ModuleType):
    """An old module path: each name is read from where it lives now."""

    def __getattr__(self, name: str) -> Any:  # the import itself warned
        return _find(self.__name__, name, MOVED[self.__name__])[1]


class _OldPathFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old module paths that are no longer files (``zoo.documents``)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname in MOVED and importlib.machinery.PathFinder.find_spec(fullname, path) is None:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _OldModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        warnings.warn(f"{module.__name__} is deprecated: its names live in "
                      f"{', '.join(MOVED[module.__name__])} (or zoo.plugin, for plugin authors); "
                      f"the old path goes in zoo {REMOVED_IN}", DeprecationWarning,
                      stacklevel=_outside_importlib())


def install_old_module_paths() -> None:
    """Let ``import zoo.documents`` and its like find their stand-ins (once per process)."""
    if not any(isinstance(finder, _OldPathFinder) for finder in sys.meta_path):
        sys.meta_path.append(_OldPathFinder())
