"""``zoo data stats``: a corpus's size, vocabulary and token frequencies, before training."""

from __future__ import annotations

import json

from cli_errors import one_line_error
from zoo.cli import cli


def stats_of(runner, registry, *args):
    result = runner.invoke(cli, ["data", "stats", *args, "--json"], obj=registry)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_counts_add_up_for_a_corpus_of_lines(runner, registry, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("anna\nbob\nanna\neve\nzed\nadam\nbo\nal\nann\nabe\n")
    stats = stats_of(runner, registry, "text", "--set", f"dataset.path={words}",
                     "--set", "dataset.documents=line", "--set", "dataset.shuffle=false")
    train = stats["splits"]["train"]
    assert (train["documents"], stats["splits"]["val"]["documents"]) == (9, 1)
    counts = dict(stats["frequencies"])
    # 9 names framed by end of text: 10 of them, and one token per letter
    assert counts["<|endoftext|>"] == 10
    assert sum(counts.values()) == train["tokens"] == train["characters"] + 10
    assert counts["a"] == "anna bob anna eve zed adam bo al ann".count("a")
    assert [c for _, c in stats["frequencies"]] == sorted(counts.values(), reverse=True)
    assert stats["used"] == len(counts) and stats["vocab_size"] >= stats["used"]


def test_a_subword_tokenizer_has_fewer_tokens_per_character(runner, registry, small_corpus):
    char = stats_of(runner, registry, "text", "--set", f"dataset.path={small_corpus}")
    bpe = stats_of(runner, registry, "text", "--set", f"dataset.path={small_corpus}",
                   "--tokenizer", "bpe", "--set", "tokenizer.vocab_size=400")
    assert char["splits"]["train"]["tokens_per_char"] >= 1  # one a character, and two ends
    assert bpe["splits"]["train"]["tokens_per_char"] < 0.8


def test_the_histogram_is_drawn_and_the_table_printed(runner, registry, tmp_path):
    plot = tmp_path / "hist.png"
    result = runner.invoke(cli, ["data", "stats", "names", "--top", "3", "--plot", str(plot)],
                           obj=registry)
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4,646 documents" in result.output and "<|endoftext|>" in result.output


def test_mistakes_are_one_line(runner, registry):
    for args, message in [(["nope"], "no dataset 'nope'"),
                          (["names", "--set", "model.embed=3"], "--set")]:
        result = runner.invoke(cli, ["data", "stats", *args], obj=registry)
        assert message in one_line_error(result)
