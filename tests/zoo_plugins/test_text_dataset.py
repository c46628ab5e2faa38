"""The ``text`` dataset (local UTF-8 files) and the shared 90/10 character split."""

from __future__ import annotations

import pytest

from zoo.errors import ZooError
from zoo_plugins.datasets.splits import split_text
from zoo_plugins.datasets.text import TextConfig, TextDataset, read_utf8


def test_split_cuts_at_int_of_len_times_nine_tenths():
    text = "".join(chr(ord("a") + i % 26) for i in range(1234))
    splits = split_text(text, 0.1)
    assert len(splits["train"]) == 1110  # int(1234 * 0.9) = int(1110.6)
    assert splits["train"] + splits["val"] == text


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_split_rejects_a_fraction_outside_zero_one(fraction):
    with pytest.raises(ValueError):
        split_text("some text", fraction)


def test_tiny_shakespeare_splits_like_nanogpt(tiny_shakespeare):
    dataset = TextDataset(TextConfig(path=[str(tiny_shakespeare)]))
    (train,), (val,) = dataset.texts("train"), dataset.texts("val")
    assert len(train) == 1_003_854
    assert len(val) == 111_540
    assert train + val == tiny_shakespeare.read_text("utf-8")


def test_files_are_joined_in_the_given_order(tmp_path):
    first, second = tmp_path / "b.txt", tmp_path / "a.txt"
    first.write_text("To be, or not to be" * 5, "utf-8")
    second.write_text("that is the question" * 5, "utf-8")
    dataset = TextDataset(TextConfig(path=[str(first), str(second)]))
    joined = dataset.texts("train")[0] + dataset.texts("val")[0]
    a, b = first.read_text("utf-8"), second.read_text("utf-8")
    assert joined in (a + b, a + "\n" + b)


def test_val_fraction_is_honoured(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("x" * 1000, "utf-8")
    dataset = TextDataset(TextConfig(path=[str(path)], val_fraction=0.25))
    assert len(dataset.texts("train")[0]) == 750
    assert len(dataset.texts("val")[0]) == 250


def test_missing_file_is_a_zoo_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(ZooError, match="nowhere.txt"):
        TextDataset(TextConfig(path=[str(missing)])).texts("train")


def test_directory_is_a_zoo_error(tmp_path):
    with pytest.raises(ZooError, match="directory"):
        TextDataset(TextConfig(path=[str(tmp_path)])).texts("train")


def test_non_utf8_file_names_file_and_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"ok\xff")
    with pytest.raises(ZooError) as caught:
        TextDataset(TextConfig(path=[str(path)])).texts("train")
    message = str(caught.value)
    assert "latin1.txt" in message
    assert "offset 2" in message


def test_read_utf8_reads_multibyte_text(tmp_path):
    path = tmp_path / "u.txt"
    path.write_bytes("naïve — 😀".encode())
    assert read_utf8(path) == "naïve — 😀"


def test_no_path_is_a_zoo_error_mentioning_data_option():
    with pytest.raises(ZooError, match="--data"):
        TextDataset(TextConfig())


def test_folders_and_globs_expand_in_sorted_order(tmp_path):
    (tmp_path / "books" / "b").mkdir(parents=True)
    (tmp_path / "books" / "a.txt").write_text("A" * 10)
    (tmp_path / "books" / "b" / "c.txt").write_text("C" * 10)
    (tmp_path / "books" / ".hidden").write_text("H" * 10)
    (tmp_path / "notes.md").write_text("N" * 10)
    dataset = TextDataset(TextConfig(path=[str(tmp_path / "books"), str(tmp_path / "*.md")],
                                     val_fraction=0.5))
    text = dataset.texts("train")[0] + dataset.texts("val")[0]
    assert text == "A" * 10 + "\n" + "C" * 10 + "\n" + "N" * 10


def test_a_glob_matching_nothing_names_the_pattern(tmp_path):
    with pytest.raises(ZooError, match=r"no files match '.*\*\.nope'"):
        TextDataset(TextConfig(path=[str(tmp_path / "*.nope")])).texts("train")


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_not_read(special):
    with pytest.raises(ZooError, match="is not a regular file"):
        TextDataset(TextConfig(path=[special])).texts("train")
