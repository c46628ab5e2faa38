"""`zoo compare --plot`: any image format by suffix, never over an existing file unless --force."""

from __future__ import annotations

from cli_errors import one_line_error
from zoo.cli import cli


def test_an_existing_plot_is_kept_unless_forced(runner, registry, trained_run, tmp_path):
    plot = tmp_path / "curves.svg"
    plot.write_text("mine")
    result = runner.invoke(cli, ["compare", str(trained_run), "--plot", str(plot)], obj=registry)
    assert "already exists; choose another file or add --force" in one_line_error(result)
    assert plot.read_text() == "mine"
    forced = runner.invoke(cli, ["compare", str(trained_run), "--plot", str(plot), "--force"],
                           obj=registry)
    assert forced.exit_code == 0, forced.output
    assert plot.read_text().lstrip().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.svg"]  # no temporary left


def test_a_plot_file_of_an_unknown_format_is_refused(runner, registry, trained_run, tmp_path):
    plot = tmp_path / "curves.txt"
    result = runner.invoke(cli, ["compare", str(trained_run), "--plot", str(plot)], obj=registry)
    assert "cannot write a txt file; use one of " in one_line_error(result)
    assert not any(tmp_path.iterdir())
