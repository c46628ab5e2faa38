"""``zoo inspect``: a model's views against the text, drawn and written as numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cli_errors import one_line_error
from zoo.analysis.inspection import draw, inspect_text
from zoo.cli import cli
from zoo.errors import ZooError


class Letters:
    """a..z as ids 2..27 after <unk> 0 and end of text 1."""

    special_tokens = {"<unk>": 0, "<|endoftext|>": 1}
    end_of_text, unknown, vocab_size = "<|endoftext|>", "<unk>", 28

    def encode(self, text):
        return [ord(c) - ord("a") + 2 for c in text]

    def decode(self, ids):
        return "".join(chr(i - 2 + ord("a")) for i in ids if i >= 2)


class Viewed(torch.nn.Module):
    """A model whose views are made from the ids, so each can be checked by hand."""

    def __init__(self, views=None):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.views = views

    def inspect(self, idx):
        T = idx.shape[1]
        if self.views is not None:
            return self.views(T)
        gate = idx.float()[0, :, None].expand(T, 5)[None] / 28  # (1, T, 5) in [0, 1]
        attention = torch.tril(torch.ones(T, T)) / torch.arange(1, T + 1)[:, None]
        return {"gate": gate, "attention": attention[None, None].expand(2, 3, T, T),
                "table": torch.softmax(torch.zeros(28, 28), dim=-1)}


def test_views_come_back_against_the_tokens_read():
    inside = inspect_text(Viewed(), Letters(), "abc", "fake")
    assert inside.tokens == ["<|endoftext|>", "a", "b", "c"]
    assert inside.views["gate"].shape == (1, 4, 5)
    assert np.allclose(inside.views["gate"][0, :, 0], np.array([1, 2, 3, 4]) / 28)
    assert inside.views["attention"].shape == (2, 3, 4, 4)
    numbers = json.loads(json.dumps(inside.to_dict()))
    assert numbers["views"]["gate"]["shape"] == [1, 4, 5]


def test_every_view_is_drawn_in_its_own_panels(tmp_path):
    inside = inspect_text(Viewed(), Letters(), "abc", "fake")
    figure = draw(inside, units=4)
    titled = [a.get_title() for a in figure.axes if a.get_visible() and a.get_title()]
    assert "gate, layer 0 (first 4 units)" in titled
    assert sum(t.startswith("attention, layer") for t in titled) == 2 * 3
    assert "table" in titled
    figure.savefig(tmp_path / "views.png")
    assert (tmp_path / "views.png").read_bytes()[:4] == b"\x89PNG"


def test_a_view_of_the_wrong_shape_names_the_plugin():
    model = Viewed(lambda T: {"gate": torch.zeros(1, T + 1, 3)})
    with pytest.raises(ZooError, match=r"view 'gate' has shape \[1, 5, 3\] for 4 tokens"):
        inspect_text(model, Letters(), "abc", "fake")


def test_an_architecture_without_views_says_how_to_add_them():
    class Plain(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))

    with pytest.raises(ZooError, match="exposes nothing to inspect; its plugin can add"):
        inspect_text(Plain(), Letters(), "abc", "plain")


def test_zoo_inspect_draws_and_writes_numbers(runner, registry, trained_run, tmp_path):
    plot, numbers = tmp_path / "gates.png", tmp_path / "gates.json"
    result = runner.invoke(cli, ["inspect", str(trained_run), "--text", "ROMEO:", "--plot",
                                 str(plot), "--json", str(numbers)], obj=registry)
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[:4] == b"\x89PNG"
    written = json.loads(numbers.read_text())
    assert written["tokens"][1:] == list("ROMEO:")
    assert {"update gate", "reset gate"} <= set(written["views"])
    again = runner.invoke(cli, ["inspect", str(trained_run), "--json", str(numbers)],
                          obj=registry)
    assert "already exists" in one_line_error(again)


def test_every_built_in_architecture_draws_its_views(registry, tmp_path):
    """A PNG for each: the views of an (untrained) model of every registered architecture."""
    from zoo.config.run import choose_component
    from zoo.registry.factory import build_tokenizer

    tokenizer = build_tokenizer(registry, choose_component(registry, "tokenizer", "char", {},
                                                           section="tokenizer"))
    tokenizer.train(["ROMEO: But soft, what light through yonder window breaks?\n"])
    names = registry.names("architecture")
    assert {"bigram", "rnn", "lstm", "gru", "gru-tied", "transformer", "mlp",
            "wavenet"} <= set(names)
    for name in names:
        component = registry.get("architecture", name)
        torch.manual_seed(0)
        model = component.load_factory()(component.default_config(), tokenizer.vocab_size).eval()
        inside = inspect_text(model, tokenizer, "ROMEO: But soft", name)
        assert inside.views, name
        path = tmp_path / f"{name}.png"
        inside.plot().savefig(path)
        assert path.read_bytes()[:4] == b"\x89PNG", name
