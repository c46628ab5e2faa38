"""examples/quickstart.ipynb runs top to bottom in a real Jupyter kernel and shows its results;
every recipe in examples/recipes trains with the command its comment gives."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from zoo.cli import cli

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def _text(cell) -> str:
    """Everything a cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _cell(notebook, source_start: str):
    return next(c for c in notebook.cells if c.cell_type == "code"
                and c.source.startswith(source_start))


@pytest.mark.slow
def test_quickstart_notebook_runs_and_shows_its_results(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    assert "'gru-tied'" in _text(_cell(notebook, "import zoo"))
    # the pretrained LSTM, before anything is trained: opened, looked inside, scored, sampled
    assert "<zoo.Run 'lstm/tinyshakespeare'" in _text(_cell(notebook, "lstm = zoo.load("))
    gates = _cell(notebook, "inside = lstm.inspect(")
    assert any("image/png" in o.get("data", {}) for o in gates.outputs)
    assert 1.0 < float(_text(_cell(notebook, "lstm.score("))) < 3.0  # nats/char of Hamlet's line
    assert _text(_cell(notebook, "print(lstm.sample(")).startswith("JULIET:")
    trained = _cell(notebook, "run = zoo.train(")
    assert "text/html" in trained.outputs[-1]["data"]  # the run shows itself as a table
    assert _text(_cell(notebook, 'print(run.sample("ROMEO:"')).startswith("ROMEO:")
    assert "'bits_per_char'" in _text(_cell(notebook, "scores = run.evaluate()"))
    plotted = _cell(notebook, "run.plot()")
    assert any("image/png" in o.get("data", {}) for o in plotted.outputs)  # drawn inline
    assert _text(_cell(notebook, "from_onnx = ")).rstrip().endswith("True")  # same greedy text
    assert (tmp_path / "runs" / "quickstart" / "onnx" / "manifest.json").exists()


RECIPES = sorted((Path(__file__).parents[1] / "examples" / "recipes").glob("*.toml"))


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_every_recipe_file_trains_as_its_comment_says(recipe, runner, registry, tmp_path):
    architecture = tomllib.loads(recipe.read_text("utf-8"))["model"]["name"]
    assert f"zoo train {architecture} --config examples/recipes/{recipe.name}" in \
        recipe.read_text("utf-8")
    out = tmp_path / "run"
    result = runner.invoke(cli, ["train", architecture, "--config", str(recipe), "--steps", "3",
                                 "--set", "train.max_seconds=0", "--out", str(out),
                                 "--no-progress"], obj=registry)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["model"]["name"] == architecture
