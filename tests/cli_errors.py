"""The one assertion for a user's mistake: exit code 2, one line on stderr, no traceback."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any


def one_line_error(result: Any) -> str:
    """Assert that a ``zoo`` run failed as a user's mistake should, and return its line.

    ``result`` is a click ``CliRunner`` result or a ``subprocess.CompletedProcess``.
    The exit code is 2, nothing mentions a traceback, and stderr is exactly one
    line, ``error: ...``: what went wrong and the way out.
    """
    if isinstance(result, subprocess.CompletedProcess):
        code, stdout, stderr = result.returncode, result.stdout, result.stderr
    else:
        code, stdout, stderr = result.exit_code, result.stdout, result.stderr
    everything = f"{stdout}\n{stderr}"
    assert code == 2, f"exit code {code}, expected 2:\n{everything}"
    assert "Traceback" not in everything, everything
    lines = stderr.splitlines()
    assert len(lines) == 1, f"stderr has {len(lines)} lines, expected one:\n{stderr}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def one_line_zoo_error(call: Callable[[], Any]) -> str:
    """The message of the ZooError that ``call()`` raises, asserted to be one line: what the
    CLI would print after ``error: ``."""
    import pytest

    from zoo.errors import ZooError

    with pytest.raises(ZooError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message, message
    return message
