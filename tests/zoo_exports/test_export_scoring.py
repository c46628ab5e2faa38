"""An export where a run is taken: ``zoo score``, ``zoo inspect``, ``zoo chat`` and ``zoo sample
-i`` on an export directory, through onnxruntime, without torch, with the run's numbers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import zoo
from cli_errors import one_line_error
from zoo.cli import cli


@pytest.mark.parametrize("name", ["gru", "transformer"])
def test_a_run_and_its_export_score_alike(registry, export_small, small_corpus, name):
    """Per document within 1e-4 nats, documents longer than the training window (32 tokens
    for the gru, 16 for the transformer) and an empty one included."""
    run_dir, export_dir, _ = export_small(name)
    text = small_corpus.read_text()
    documents = [text[:300], "", text[400:405], text[1000:1100], "ROMEO:"]
    run = zoo.load(run_dir, registry=registry)
    from_run = run.score(documents)
    from_export = zoo.load_export(export_dir, registry=registry).score(documents)
    assert [d.tokens for d in from_run.documents] == [301, 1, 6, 101, 7]
    for torch_side, onnx_side in zip(from_run.documents, from_export.documents, strict=True):
        assert onnx_side.ids.tolist() == torch_side.ids.tolist()
        assert abs(onnx_side.nats - torch_side.nats) < 1e-4
        assert np.abs(onnx_side.surprisal - torch_side.surprisal).max(initial=0) < 1e-4
    assert abs(from_export.nats_per_token - from_run.nats_per_token) < 1e-5
    assert from_export.to_dict()["total"]["tokens"] == 416


def test_the_exports_inspection_is_the_runs_surprisal_view(registry, export_small):
    run_dir, export_dir, _ = export_small("gru")
    from_run = zoo.load(run_dir, registry=registry).inspect("ROMEO:")
    from_export = zoo.load_export(export_dir, registry=registry).inspect("ROMEO:")
    assert list(from_export.views) == ["surprisal"]  # the step graph gives logits, not gates
    assert from_export.tokens == from_run.tokens == ["<|endoftext|>", *"ROMEO:"]
    assert np.allclose(from_export.views["surprisal"], from_run.views["surprisal"], atol=1e-4,
                       equal_nan=True)


def test_an_export_gives_the_documents_of_its_runs_splits(registry, export_small):
    run_dir, export_dir, _ = export_small("gru")
    export = zoo.load_export(export_dir, registry=registry)
    assert export.documents("val") == zoo.load(run_dir, registry=registry).documents("val")


def test_chat_with_an_export_replies_as_the_run_does(registry, export_small):
    run_dir, export_dir, _ = export_small("transformer")
    options = {"user": "First Citizen:\n", "reply": "\nSecond Citizen:\n", "temperature": 0,
               "max_new_tokens": 12}
    replies = []
    for source in (zoo.load(run_dir, registry=registry),
                   zoo.load_export(export_dir, registry=registry)):
        conversation = source.chat(**options)
        replies.append([conversation.say("Who goes there?"), conversation.say("Speak.")])
    assert replies[0] == replies[1]
    assert any(replies[0])


def test_an_export_is_recognized_where_a_run_is_taken_and_torch_stays_out(export_small,
                                                                          tmp_path):
    _, export_dir, _ = export_small("gru")
    export = str(export_dir)
    commands = [
        (["score", export, "--text", "ROMEO:", "--per-token"], ""),
        (["inspect", export, "--text", "ROMEO:", "--json", str(tmp_path / "s.json")], ""),
        (["chat", export, "--user", "A: ", "--reply", " B: ", "--max-new-tokens", "5"],
         "Who goes there?\n\n"),
        (["sample", export, "-i", "--max-new-tokens", "5", "--seed", "1"], "ROMEO:\n\n"),
        (["sample", export, "--max-new-tokens", "5", "--seed", "1"], ""),
    ]
    for arguments, typed in commands:
        script = (
            "import sys\n"
            "from zoo.cli import main\n"
            "try:\n"
            f"    main({arguments!r})\n"
            "except SystemExit as exit:\n"
            "    assert exit.code in (0, None), exit.code\n"
            "print('TORCH LOADED' if 'torch' in sys.modules else 'NO TORCH')\n"
        )
        result = subprocess.run([sys.executable, "-c", script], input=typed,
                                capture_output=True, text=True)
        assert result.returncode == 0, (arguments, result.stdout + result.stderr)
        assert result.stdout.strip().endswith("NO TORCH"), (arguments, result.stdout)
    assert '"surprisal"' in (tmp_path / "s.json").read_text()


def test_an_export_refuses_another_device(registry, export_small):
    _, export_dir, _ = export_small("gru")
    for command in (["score", str(export_dir), "--text", "a"], ["chat", str(export_dir)],
                    ["inspect", str(export_dir)]):
        result = CliRunner().invoke(cli, [*command, "--device", "cuda"], obj=registry)
        assert "an export runs on onnxruntime's CPU provider" in one_line_error(result)
