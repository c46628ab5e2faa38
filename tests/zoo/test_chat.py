"""``zoo chat``: replies that carry the model's state from turn to turn."""

from __future__ import annotations

import torch

from cli_errors import one_line_error
from zoo.api import load
from zoo.cli import cli
from zoo.data.documents import end_of_text_id
from zoo.sampling.loop import prompt_ids


def test_the_second_reply_continues_from_the_whole_conversation(trained_run, registry):
    """Greedy replies from the carried state equal a full forward over the conversation
    so far (each turn a document: end of text, then the turn), so nothing is lost."""
    run = load(trained_run, registry=registry)
    chat = run.chat(user="First Citizen:\n", reply="\nSecond Citizen:\n", temperature=0,
                    max_new_tokens=12)
    first = chat.say("Who goes there?")
    second = chat.say("Speak.")
    tokenizer, model = run.tokenizer, run.model
    eot = end_of_text_id(tokenizer)
    # the first turn and its reply; the token that ended the reply was chosen, never fed,
    # and the second turn starts a new document
    ids = [*prompt_ids(tokenizer, "First Citizen:\nWho goes there?\nSecond Citizen:\n"),
           *tokenizer.encode(first)]
    ids += prompt_ids(tokenizer, "First Citizen:\nSpeak.\nSecond Citizen:\n")
    expected = []
    with torch.no_grad():
        logits, state = model(torch.tensor([ids]))
        for _ in range(12):
            token = int(logits[0, -1].argmax())
            if token == eot:
                break
            expected.append(token)
            logits, state = model(torch.tensor([[token]]), state)
    assert second == tokenizer.decode(expected)
    assert chat.history == [("Who goes there?", first), ("Speak.", second)]


def test_zoo_chat_answers_each_line_until_an_empty_one(runner, trained_run, registry):
    result = runner.invoke(cli, ["chat", str(trained_run), "--user", "First Citizen: ",
                                 "--reply", " Second Citizen: ",
                                 "--seed", "0", "--max-new-tokens", "8"],
                           input="Who goes there?\nSpeak.\n\n", obj=registry)
    assert result.exit_code == 0, result.output
    assert result.output.count("Enter your prompt: ") == 3  # two turns, then the empty line
    assert result.output.count("ai: ") == 2


def test_end_of_input_ends_the_chat_without_a_traceback(runner, trained_run, registry):
    result = runner.invoke(cli, ["chat", str(trained_run), "--user", "First Citizen: ",
                                 "--reply", " Second Citizen: ",
                                 "--max-new-tokens", "4"],
                           input="Hello\n", obj=registry)  # then end of input (Ctrl-D)
    assert result.exit_code == 0, result.output
    assert result.output.count("ai: ") == 1


def test_markers_the_tokenizer_cannot_represent_are_one_line(runner, trained_run, registry):
    """Tiny Shakespeare has no '<' or '>': the default GruLM markers cannot be encoded."""
    result = runner.invoke(cli, ["chat", str(trained_run)], input="Hello\n", obj=registry)
    line = one_line_error(result)
    assert "turn markers '<prompt> ' and ' <ai> '" in line and "--user" in line
