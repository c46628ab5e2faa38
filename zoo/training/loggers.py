"""Loggers: where a run's records go besides ``metrics.jsonl`` (``train.loggers``).

A logger is a plugin component (``zoo_register_loggers``); ``metrics.jsonl``
is always written, and each logger named by ``--logger`` receives the same
records as they are appended. Loggers run on the main rank only.

A new run is built in a staged directory that takes its name at the first
checkpoint, and a logger may keep files open by path, so loggers start only
once the run has its final name; the records made before then reach them at
that moment, in order.
"""

from __future__ import annotations

from typing import Any

from zoo.config.run import choose_component
from zoo.registry.factory import build_component
from zoo.registry.host import Registry


def build_loggers(registry: Registry, names: list[str]) -> list[Any]:
    """The loggers ``names`` asks for, not yet started (an unknown name is one line)."""
    return [build_component(registry, "logger",
                            choose_component(registry, "logger", name, {}, section="train"))
            for name in names]


class RunLoggers:
    """A run's loggers: started when its directory is published, fed every record."""

    def __init__(self, loggers: list[Any], run_config: dict[str, Any]) -> None:
        self.loggers, self.run_config = loggers, run_config
        self.pending: list[dict[str, Any]] = []  # records made before the run had its name
        self.started = False

    def record(self, entry: dict[str, Any], directory: Any) -> None:
        """Give ``entry`` to every logger, or keep it until ``directory`` is published."""
        self.pending.append(entry)
        self.flush(directory)

    def flush(self, directory: Any) -> None:
        """Start the loggers once ``directory`` is published and hand them what waits."""
        if not self.loggers or not getattr(directory, "published", False):
            return
        if not self.started:
            for logger in self.loggers:
                logger.start(directory.path, self.run_config)
            self.started = True
        for waiting in self.pending:
            for logger in self.loggers:
                logger.record(waiting)
        self.pending.clear()

    def close(self, directory: Any) -> None:
        """Deliver what is waiting (if the run was published) and close every logger."""
        self.flush(directory)
        if self.started:
            for logger in self.loggers:
                logger.close()
