"""The tests marked ``slow`` run when asked for: ``pytest --slow`` (CI does) or your own ``-m``.

Without either, they are deselected, never skipped: a deselected test is left
out of the run and counted as such, while a skip would fail the run under
tests/skip_policy.py. The slow ones are the end-to-end checks that take
seconds to a minute each: the web page in Chromium, packages built into fresh
virtual environments, the notebook, many kills and many fuzz examples.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true",
                     help="also run the tests marked slow (CI does)")


def _asked_for(config: pytest.Config) -> bool:
    return bool(config.getoption("--slow") or config.option.markexpr)


def pytest_report_header(config: pytest.Config) -> str:
    return ("slow tests: selected" if _asked_for(config)
            else "slow tests: deselected (pytest --slow runs them too)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _asked_for(config):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
