"""``zoo sample --temperature 0.5,0.8,1.2``: one sample per temperature, side by side."""

from __future__ import annotations

import pytest

from cli_errors import one_line_error
from zoo.cli import cli
from zoo.cli.columns import GUTTER, side_by_side


def test_columns_keep_each_text_whole_and_in_its_own_column():
    texts = ["ROMEO:\nWhat light", "ROMEO:\nbut soft, through yonder window breaks"]
    shown = side_by_side(["t 0.5", "t 1.2"], texts, width=40)
    rows = shown.splitlines()
    column = (40 - len(GUTTER)) // 2
    assert rows[0].startswith("t 0.5") and f"{GUTTER}t 1.2" in rows[0]
    left = "".join(row[:column] for row in rows[2:]).replace(" ", "")
    right = "".join(row[column + len(GUTTER):] for row in rows[2:]).replace(" ", "")
    assert left == texts[0].replace("\n", "").replace(" ", "")
    assert right == texts[1].replace("\n", "").replace(" ", "")
    assert all(len(row) <= 40 for row in rows)


def test_each_temperature_gets_the_sample_it_would_get_alone(runner, registry, trained_run,
                                                             monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # the columns fit the terminal's width
    common = ["sample", str(trained_run), "--seed", "2", "--max-new-tokens", "20",
              "--prompt", "A", "--ignore-eot"]
    result = runner.invoke(cli, [*common, "--temperature", "0,1.5"], obj=registry)
    assert result.exit_code == 0, result.output
    assert "temperature 0" in result.output and "temperature 1.5" in result.output
    alone = [runner.invoke(cli, [*common, "--temperature", t], obj=registry).output.strip()
             for t in ("0", "1.5")]
    shown = side_by_side(["temperature 0", "temperature 1.5"], alone, width=80)
    assert result.output.strip() == shown.strip()


@pytest.mark.parametrize(("value", "extra", "message"), [
    ("0.5,hot", [], "give a number, or numbers separated by commas"),
    ("0.5,-1", [], "each temperature must be a number >= 0"),
    ("0.5,1", ["--num-samples", "3"], "several --temperature values give one sample each"),
])
def test_bad_temperatures_are_one_line(runner, registry, trained_run, value, extra, message):
    result = runner.invoke(cli, ["sample", str(trained_run), "--temperature", value, *extra],
                           obj=registry)
    assert message in one_line_error(result)
