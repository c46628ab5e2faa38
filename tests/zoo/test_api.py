"""The Python API (zoo.api): what the CLI does, as calls, with the CLI's numbers and errors."""

from __future__ import annotations

import doctest
import json
import math
import shutil
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

import zoo
import zoo.api.export
import zoo.api.run
import zoo.api.sampler
import zoo.registry.host
from cli_errors import one_line_error
from zoo import api
from zoo.cli import cli
from zoo.errors import ZooError
from zoo.runs.run_directory import read_metrics

TINY = {"steps": 8, "batch_size": 4, "block_size": 32, "device": "cpu", "progress": False,
        "log": lambda line: None, "model.embed": 32, "model.hidden": 48,
        "train.eval_interval": 4, "train.eval_batches": 2}


@pytest.fixture(scope="module")
def run(registry, small_corpus, tmp_path_factory) -> api.Run:
    """A tiny gru-tied run trained once through zoo.train, shared by read-only tests."""
    out = tmp_path_factory.mktemp("api") / "run"
    return zoo.train("gru-tied", data=small_corpus, out=out, registry=registry, **TINY)


@pytest.fixture(scope="module")
def export(run) -> api.Export:
    return run.export(run.directory.parent / "export", log=lambda line: None)


def test_import_zoo_and_listing_never_import_torch():
    code = ("import sys, zoo\nnames = [c.name for c in zoo.components('architecture')]\n"
            "assert 'gru-tied' in names, names\nassert 'torch' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_components_filter_like_zoo_list(registry):
    names = [c.name for c in zoo.components("architecture", "gru*", registry=registry)]
    assert names == ["gru", "gru-tied"]
    with pytest.raises(ZooError, match="no component kind 'model'; kinds: architecture"):
        zoo.components("model")


def test_train_returns_the_run_it_wrote(run):
    assert run.step == 8 and run.architecture == "gru-tied"
    assert (run.config.model.config.hidden, run.config.train.block_size) == (48, 32)
    assert run.metrics == read_metrics(run.directory) and run.metrics[-1]["split"] == "val"
    assert run.parameters == sum(p.numel() for p in run.model.parameters())
    assert run.tokenizer.vocab_size == run.model.embedding.num_embeddings


def test_data_paths_are_stored_absolute(run, small_corpus):
    assert run.config.dataset.config.path == [str(small_corpus.absolute())]


def test_sample_gives_the_prompt_and_its_continuation(run):
    texts = run.sample("ROMEO:", max_new_tokens=20, seed=3, num_samples=2)
    assert len(texts) == 2 and all(t.startswith("ROMEO:") for t in texts)
    assert run.sample("ROMEO:", max_new_tokens=20, seed=3, num_samples=2) == texts


def test_stream_yields_the_text_sample_returns(run):
    pieces = list(run.stream("ROMEO:", max_new_tokens=30, seed=5, top_k=10))
    assert len(pieces) > 1
    assert "ROMEO:" + "".join(pieces) == run.sample("ROMEO:", max_new_tokens=30, seed=5,
                                                    top_k=10)[0]


def test_stopping_a_stream_early_stops_generating_and_leaves_no_thread(run, monkeypatch):
    """Closing the stream after one piece stops the sampler at its next piece and joins the
    worker thread before close() returns, so no thread outlives the stream."""
    generate = run._generate()
    made: list[str] = []

    def slow_generate(*, on_text, **options):  # a slow model: the worker is mid-step at close
        def each_piece(text: str) -> None:
            made.append(text)
            time.sleep(0.05)
            on_text(text)

        return generate(**options, on_text=each_piece)

    monkeypatch.setattr(run, "_generate", lambda: slow_generate)
    before = set(threading.enumerate())
    stream = run.stream(max_new_tokens=400, seed=1)
    first = next(stream)
    stream.close()
    left = [thread for thread in threading.enumerate()
            if thread not in before and thread.is_alive()]
    assert not left, f"the stream's worker outlived the closed stream: {left}"
    assert isinstance(first, str) and first == made[0]
    assert len(made) <= 3, f"the sampler went on after the stream was closed: {len(made)} pieces"


def test_evaluate_gives_the_numbers_zoo_eval_prints(registry, run):
    result = CliRunner().invoke(cli, ["eval", str(run.directory), "--json"], obj=registry)
    assert result.exit_code == 0, result.output
    assert run.evaluate() == json.loads(result.output)
    longer = CliRunner().invoke(cli, ["eval", str(run.directory), "--json", "--block-size",
                                      "64"], obj=registry)
    assert longer.exit_code == 0, longer.output
    assert run.evaluate(block_size=64) == json.loads(longer.output)
    assert json.loads(longer.output)["loss"] != run.evaluate()["loss"]  # other windows
    with pytest.raises(ZooError, match="block_size must be at least 1, got 0"):
        run.evaluate(block_size=0)


def test_plot_is_a_figure_of_both_curves(run):
    figure = run.plot()
    assert isinstance(figure, Figure)
    by_step, _ = figure.axes
    assert len(by_step.lines) == 2  # training and validation
    assert by_step.get_ylabel().startswith("loss (nats/token)")


def test_export_samples_like_the_run_without_torch(run, export):
    assert export.manifest["architecture"] == "gru-tied"
    greedy = {"max_new_tokens": 40, "temperature": 0}
    assert export.sample("ROMEO:", **greedy) == run.sample("ROMEO:", **greedy)
    assert "ROMEO:" + "".join(export.stream("ROMEO:", **greedy)) == export.sample(
        "ROMEO:", **greedy)[0]
    code = (f"import sys, zoo\ntext = zoo.load_export({str(export.directory)!r})"
            ".sample('RO', max_new_tokens=5, seed=0)[0]\n"
            "assert text.startswith('RO')\nassert 'torch' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_export_options_are_the_exporters_config_fields(run, tmp_path):
    with pytest.raises(ZooError, match="unknown key 'export.opsett' for exporter 'onnx'"):
        run.export(tmp_path / "x", opsett=18)
    assert not (tmp_path / "x").exists()


def test_resume_trains_the_same_run_further(registry, run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run.directory, copy)
    resumed = zoo.load(copy, registry=registry).resume(12, progress=False, log=lambda line: None)
    assert resumed.step == 12 and resumed.directory == copy
    assert [m["step"] for m in resumed.metrics if m["split"] == "val"] == [4, 8, 12]


def test_repr_and_html_name_the_run(run, export):
    assert repr(run).startswith(f"<zoo.Run {str(run.directory)!r}: architecture=gru-tied")
    assert "<table>" in run._repr_html_() and "gru-tied" in run._repr_html_()
    assert "exporter=onnx" in repr(export) and "<table>" in export._repr_html_()


@pytest.mark.parametrize(("call", "message"), [
    (lambda: zoo.train("gruu"), "no architecture 'gruu'; available: "),
    (lambda: zoo.train("gru-tied", hidden=5), r"give config keys as \*\*{'model.hidden'"),
    (lambda: zoo.train("gru-tied", **{"model.hiden": 5}), "unknown key 'model.hiden'"),
    (lambda: zoo.load("/nonexistent/run"), "does not exist"),
    (lambda: zoo.load_export("/nonexistent/export"), "does not exist"),
    (lambda: zoo.compare([]), "compare needs at least one run"),
], ids=["architecture", "bare key", "config key", "run", "export", "no runs"])
def test_a_users_mistake_is_a_zoo_error(call, message):
    with pytest.raises(ZooError, match=message):
        call()


@pytest.mark.parametrize(("options", "message"), [
    ({"top_p": 1.5}, "top-p must be in"), ({"temperature": -1}, "temperature must be"),
    ({"max_new_tokens": 0}, "max_new_tokens"),
])
def test_bad_sampling_settings_are_zoo_errors(run, options, message):
    with pytest.raises(ZooError, match=message):
        run.sample("x", **options)


def test_compare_ranks_by_bits_per_char_when_tokenizers_differ(registry, run, small_corpus,
                                                               tmp_path):
    byte_run = zoo.train("gru-tied", data=small_corpus, tokenizer="byte",
                         out=tmp_path / "byte", registry=registry, **TINY)
    comparison = zoo.compare([run, byte_run.directory], progress=False, registry=registry)
    assert comparison.ranked_by == "bits_per_char"
    bits = [row["bits_per_char"] for row in comparison.rows]
    assert bits == sorted(bits) and [row["rank"] for row in comparison.rows] == [1, 2]
    assert {row["tokenizer"] for row in comparison.rows} == {"char", "byte"}
    assert "ranked by bits per char" in str(comparison)
    assert comparison.plot().axes[0].get_ylabel().startswith("loss (bits/char)")
    same = zoo.compare([run, run.directory], progress=False, registry=registry)
    assert same.ranked_by == "val_loss"


def test_docstring_examples_run(registry, run, export, tmp_path, monkeypatch):
    """The examples in the API's docstrings, run as doctests, each on its own copy of a run."""
    monkeypatch.setattr(zoo.registry.host, "_default_registry", registry)
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(verbose=False)
    modules = [api, zoo.api.sampler, zoo.api.run, zoo.api.export]
    tests = [test for module in modules for test in finder.find(module) if test.examples]
    for index, test in enumerate(tests):
        scratch = tmp_path / str(index)
        shutil.copytree(run.directory, scratch / "run")
        test.globs.update(zoo=zoo, math=math, tmp=scratch, export=export,
                          run=zoo.load(scratch / "run", registry=registry))
        runner.run(test)
    documented = {test.name.rpartition(".")[2] if test.name.count(".") == 2 else
                  ".".join(test.name.split(".")[3:]) for test in tests}
    assert {"components", "train", "load", "load_export", "compare", "Sampler.sample",
            "Sampler.stream", "Run.evaluate", "Run.metrics", "Run.plot", "Run.export",
            "Run.resume", "Run.training"} <= documented
    assert runner.summarize(verbose=False).failed == 0


def test_a_prompt_the_tokenizer_cannot_represent_is_refused_by_name(registry, run, export):
    with pytest.raises(ZooError, match=r"cannot represent \('é', '中'\); leave them out"):
        run.sample("ROMEO é 中", max_new_tokens=5)
    with pytest.raises(ZooError, match=r"cannot represent \('é'\)"):
        export.sample("ROMEO é", max_new_tokens=5)
    result = CliRunner().invoke(cli, ["sample", str(run.directory), "--prompt", "ROMEO é"],
                                obj=registry)
    assert "cannot represent ('é')" in one_line_error(result)
    assert result.stdout == ""  # the message does not land on the prompt's line


def test_sampling_an_export_on_another_device_is_refused(registry, export):
    result = CliRunner().invoke(cli, ["sample", "--onnx", str(export.directory), "--device",
                                      "cuda"], obj=registry)
    assert "an export samples on onnxruntime's CPU provider" in one_line_error(result)
