"""Document boundaries: the end-of-text stream, padded rows, stopping and novelty."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from zoo.analysis.novelty import novelty
from zoo.data.batches import DocumentRows, batch_sampler, consecutive_batches
from zoo.data.documents import PAD_TARGET, document_windows, padded_rows
from zoo.data.streams import encode_documents
from zoo.errors import ZooError
from zoo.sampling.loop import SamplingSettings, Stopping, continue_sequences, prompt_ids
from zoo.training.steps import batch_loss

EOT = 1


class LetterTokenizer:
    """a..z as ids 2..27, with <unk>=0 and an end-of-text token (1)."""

    special_tokens = {"<unk>": 0, "<|endoftext|>": EOT}
    end_of_text = "<|endoftext|>"
    unknown = "<unk>"
    vocab_size = 28

    def encode(self, text: str) -> list[int]:
        return [ord(c) - ord("a") + 2 for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(chr(i - 2 + ord("a")) for i in ids if i >= 2)


class OldTokenizer(LetterTokenizer):
    """The same, as a tokenizer saved before end of text existed."""

    end_of_text = None


def test_documents_are_framed_by_end_of_text():
    stream = encode_documents(LetterTokenizer(), ["ab", "c", ""])
    assert stream.ids.tolist() == [EOT, 2, 3, EOT, 4, EOT, EOT]
    assert stream.end_of_text == EOT and stream.num_chars == 3


def test_a_tokenizer_without_end_of_text_gives_one_stream_as_before():
    stream = encode_documents(OldTokenizer(), ["ab", "c"])
    assert stream.ids.tolist() == [2, 3, 4] and stream.end_of_text is None


def test_long_documents_are_cut_into_windows_that_lose_no_token():
    ids = np.array([EOT, *range(2, 12), EOT, 5, EOT])  # a 10-token document, then a 1-token one
    windows = document_windows(ids, EOT, block_size=4)
    inputs, targets = padded_rows(ids, windows, pad=EOT)
    predicted = [t for row in targets.tolist() for t in row if t != PAD_TARGET]
    assert predicted == [*range(2, 12), EOT, 5, EOT]  # every token once, each end included
    assert inputs.shape[1] == 4 and inputs[0, 0] == EOT  # the first window starts a document
    assert targets[-1].tolist() == [5, EOT, PAD_TARGET, PAD_TARGET]


def test_padded_batches_are_one_document_a_row_and_resume():
    stream = encode_documents(LetterTokenizer(), ["emma", "olivia", "ava", "isabella"])
    sampler = DocumentRows(stream, block_size=16, batch_size=3, seed=0)
    x, y, reset = sampler.next_batch()
    assert reset  # no state crosses from one document into the next
    for inputs, targets in zip(x.tolist(), y.tolist(), strict=True):
        real = [t for t in targets if t != PAD_TARGET]
        assert inputs[0] == EOT and real[-1] == EOT
        assert LetterTokenizer().decode(real) in {"emma", "olivia", "ava", "isabella"}
    saved = sampler.state_dict()
    expected = sampler.next_batch()[0]
    again = DocumentRows(stream, block_size=16, batch_size=3, seed=5)
    again.load_state_dict(saved)
    assert (again.next_batch()[0] == expected).all()


def test_padded_rows_need_an_end_of_text_token_and_no_carried_state():
    from zoo.config.training import TrainConfig

    with pytest.raises(ZooError, match="end-of-text"):
        DocumentRows(encode_documents(OldTokenizer(), ["ab"]), 8, 2, seed=0)
    stream = encode_documents(LetterTokenizer(), ["ab"])
    with pytest.raises(ZooError, match="stateful"):
        batch_sampler(stream, TrainConfig(stateful=True), rows="padded")


def test_evaluation_counts_every_token_of_every_document_once():
    stream = encode_documents(LetterTokenizer(), ["emma", "olivia", "ava"])
    batches = list(consecutive_batches(stream, block_size=4, batch_size=2, rows="padded"))
    counted = sum(int((y != PAD_TARGET).sum()) for _, y in batches)
    assert counted == len("emma") + len("olivia") + len("ava") + 3  # and each end


def test_the_loss_leaves_padding_out():
    torch.manual_seed(0)
    table = torch.nn.Embedding(28, 28)

    def model(idx: torch.Tensor, state: object = None) -> tuple[torch.Tensor, tuple]:
        return table(idx), ()

    inputs = torch.tensor([[EOT, 2, 3]])
    targets = torch.tensor([[2, 3, EOT]])
    alone, _, _ = batch_loss(model, inputs, targets)
    padded, _, _ = batch_loss(model, torch.tensor([[EOT, 2, 3, EOT, EOT]]),
                              torch.tensor([[2, 3, EOT, PAD_TARGET, PAD_TARGET]]))
    assert torch.allclose(alone, padded)


def test_a_prompt_starts_a_document():
    assert prompt_ids(LetterTokenizer(), "") == [EOT]
    assert prompt_ids(LetterTokenizer(), "em") == [EOT, 6, 14]
    assert prompt_ids(OldTokenizer(), "em") == [6, 14]


def scripted(choices: list[list[int]], vocab: int = 28):
    """Logits that make greedy sampling pick ``choices[step][row]``, and a step function."""
    def logits_for(step: int) -> np.ndarray:
        logits = np.zeros((len(choices[0]), vocab))
        for row, token in enumerate(choices[min(step, len(choices) - 1)]):
            logits[row, token] = 10.0
        return logits

    steps = iter(range(1, 100))
    return logits_for(0), lambda _ids: logits_for(next(steps))


def test_each_row_ends_at_its_own_end_of_text():
    a, b, c = 2, 3, 4
    first, step = scripted([[a, b], [EOT, b], [c, EOT], [c, c]])
    texts = continue_sequences(first, step, decode=LetterTokenizer().decode, max_new_tokens=10,
                               settings=SamplingSettings(temperature=0),
                               rng=np.random.default_rng(0), stopping=Stopping(EOT))
    assert texts == ["a", "bb"]


def test_a_stop_string_spanning_tokens_ends_the_sample_before_it_and_streams_alike():
    letters = [LetterTokenizer().encode(c)[0] for c in "abxyc"]
    first, step = scripted([[t] for t in letters])
    streamed: list[str] = []
    texts = continue_sequences(first, step, decode=LetterTokenizer().decode, max_new_tokens=10,
                               settings=SamplingSettings(temperature=0),
                               rng=np.random.default_rng(0), on_text=streamed.append,
                               stopping=Stopping(None, ("xy",)))
    assert texts == ["ab"] and "".join(streamed) == "ab"


def test_without_stopping_a_sample_runs_to_max_new_tokens():
    first, step = scripted([[EOT]])
    texts = continue_sequences(first, step, decode=LetterTokenizer().decode, max_new_tokens=3,
                               settings=SamplingSettings(temperature=0),
                               rng=np.random.default_rng(0), stopping=Stopping(None))
    assert texts == [""]  # three end-of-text tokens, which decode to nothing


def test_novelty_counts_new_samples_and_those_the_model_has_seen():
    result = novelty(["emma", "zed ", "ava", "noa"], train=["emma", "olivia"], val=["ava"])
    assert (result.samples, result.in_train, result.in_val, result.new) == (4, 1, 1, 2)
    assert str(result).startswith("novelty: 2 of 4 samples are new")
