"""tests/skip_policy.py: a skip for an unlisted reason fails the run; a listed one does not."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _pytest_on(tmp_path: Path, source: str, *options: str) -> subprocess.CompletedProcess[str]:
    """pytest in a child process on ``source``, with zoo's skip policy and slow-test hooks."""
    (tmp_path / "test_example.py").write_text(textwrap.dedent(source))
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: slow\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "skip_policy", "-p", "slow_tests",
         "-p", "no:cacheprovider", *options, str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(TESTS)},
    )


@pytest.mark.parametrize("skip", [
    "pytest.skip('the corpus file is not present')",
    "pytest.importorskip('a_module_that_is_not_installed')",
])
def test_a_skip_for_an_unlisted_reason_fails_the_run(tmp_path, skip):
    result = _pytest_on(tmp_path, f"""
        import pytest

        def test_passes():
            pass

        def test_skips():
            {skip}
    """)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    assert "skips that are not allowed" in result.stdout
    assert "test_example.py::test_skips" in result.stdout


def test_a_skip_for_a_listed_reason_passes(tmp_path):
    result = _pytest_on(tmp_path, """
        import pytest

        @pytest.mark.skipif(True, reason="needs a CUDA GPU")
        def test_on_the_gpu():
            pass
    """)
    assert result.returncode == pytest.ExitCode.OK, result.stdout
    assert "1 skipped" in result.stdout and "not allowed" not in result.stdout


SLOW_AND_FAST = """
    import pytest

    def test_fast():
        pass

    @pytest.mark.slow
    def test_slow():
        pass
"""


@pytest.mark.parametrize(("options", "ran", "left_out"), [
    ((), ["test_fast"], ["test_slow"]),
    (("--slow",), ["test_fast", "test_slow"], []),
    (("-m", "slow"), ["test_slow"], ["test_fast"]),
])
def test_slow_tests_run_only_when_asked_for_and_are_deselected_not_skipped(
        tmp_path, options, ran, left_out):
    result = _pytest_on(tmp_path, SLOW_AND_FAST, "-v", *options)
    assert result.returncode == pytest.ExitCode.OK, result.stdout
    for name in ran:
        assert f"test_example.py::{name} PASSED" in result.stdout
    for name in left_out:
        assert f"::{name}" not in result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    assert "skipped" not in summary
    assert (f"{len(left_out)} deselected" in summary) == bool(left_out), summary
