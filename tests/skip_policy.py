"""A skipped test proves nothing: a skip fails the run unless its reason is listed here.

The whole suite runs on a fresh clone with only the repository and its
installed dependencies, so a test may skip only for a reason outside the
project's control, and only for one of the reasons below. Any other skip is
reported at the end of the run and turns the exit status into a failure,
here and in CI alike.
"""

from __future__ import annotations

import pytest

#: The only reasons a test may skip (a skip's reason must start with one of these).
ALLOWED_SKIP_REASONS = (
    "needs a CUDA GPU",  # the GPU paths are also covered by CPU tests of the same logic
    "needs POSIX signals",  # Windows cannot deliver SIGINT/SIGTERM to a child process
    # The web page's tests need a browser from the system (apt-get install chromium
    # chromium-driver npm); .ci/run installs them and sets ZOO_REQUIRE_BROWSER=1, which
    # turns this skip into a failure, so CI always runs them.
    "needs Chromium, chromedriver and npm",
)
# The one other allowed gap is outside pytest: `nox -s pythons` runs on each
# Python version that pyproject.toml declares and the machine has, and names
# the ones it lacks.

_unexpected: list[tuple[str, str]] = []


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _reason(report)
        if not reason.startswith(ALLOWED_SKIP_REASONS):
            _unexpected.append((report.nodeid, reason))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _unexpected:
        terminalreporter.section("skips that are not allowed (tests/skip_policy.py)", red=True)
        for nodeid, reason in _unexpected:
            terminalreporter.line(f"{nodeid}: {reason}")
