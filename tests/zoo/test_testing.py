"""zoo.testing: the public contract checks pass every built-in and catch broken components."""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from zoo.files import atomic
from zoo.models.loading import load_run
from zoo.registry.host import installed_entry_points, load_registry
from zoo.testing import (
    check_architecture,
    check_dataset,
    check_exporter,
    check_logger,
    check_logger_session,
    check_tokenizer,
)

# Every registered component runs through these checks in tests/test_contracts.py; this
# module shows that each check catches the components that break its contract.


@dataclass
class NoConfig:
    pass


class ForgetfulTokenizer:
    """Saves nothing, so a reloaded copy knows no characters."""

    def __init__(self, config: NoConfig) -> None:
        self.chars: list[str] = []

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    def train(self, texts, vocab_size=None):
        self.chars = sorted(set("".join(texts)))

    def encode(self, text):
        return [self.chars.index(c) + 1 if c in self.chars else 0 for c in text]

    def decode(self, ids):
        return "".join(self.chars[i - 1] if i else "?" for i in ids)

    def save(self, directory):
        pass

    def load(self, directory):
        pass


def test_check_tokenizer_catches_a_tokenizer_that_does_not_save():
    with pytest.raises(AssertionError, match="saved and reloaded tokenizer has another vocab"):
        check_tokenizer(ForgetfulTokenizer, NoConfig())


class EmptyValidation:
    def __init__(self, config: NoConfig) -> None:
        pass

    def texts(self, split):
        return ["some text"] if split == "train" else []


def test_check_dataset_catches_an_empty_split():
    with pytest.raises(AssertionError, match=r"texts\('val'\) is empty"):
        check_dataset(EmptyValidation, NoConfig())


class WithTestSplit:
    """Train and val, and a test split as ``test`` says: its documents, an error, or none."""

    def __init__(self, test: object) -> None:
        self.test = test

    def texts(self, split):
        if split != "test":
            return [f"some {split} text"]
        if isinstance(self.test, Exception):
            raise self.test
        return self.test


def test_check_dataset_takes_a_test_split_or_a_key_error():
    check_dataset(WithTestSplit, ["some test text"])
    check_dataset(WithTestSplit, KeyError("test"))  # no test split, said as the contract asks
    # how datasets written before test splits refused an unknown split: still no test split
    check_dataset(WithTestSplit, ValueError("no such split"))
    with pytest.raises(AssertionError, match=r"texts\('test'\) is empty"):
        check_dataset(WithTestSplit, [])
    with pytest.raises(AssertionError, match=r"texts\('test'\) raised OSError: disk gone; a "
                                             r"dataset without a test split raises KeyError"):
        check_dataset(WithTestSplit, OSError("disk gone"))


# --- check_architecture: a correct model passes, each broken one fails where it breaks ---

@dataclass
class TinyConfig:
    hidden: int = 8


class TinyRnn(torch.nn.Module):
    """A correct small architecture: embedding -> one RNN layer -> linear; state (h,)."""

    def __init__(self, config: TinyConfig, vocab_size: int) -> None:
        super().__init__()
        self.hidden = config.hidden
        self.embed = torch.nn.Embedding(vocab_size, config.hidden)
        self.rnn = torch.nn.RNN(config.hidden, config.hidden, batch_first=True)
        self.head = torch.nn.Linear(config.hidden, vocab_size)

    def init_state(self, batch_size):
        return (torch.zeros(1, batch_size, self.hidden),)

    def start(self, idx, state):
        """The hidden state to start from: (1, B, H)."""
        return self.init_state(idx.shape[0])[0] if state is None else state[0]

    def forward(self, idx, state=None):
        out, h = self.rnn(self.embed(idx), self.start(idx, state))  # (B, T, H), (1, B, H)
        return self.head(out), (h,)


class LastLogitsOnly(TinyRnn):
    """Returns logits (B, V) for the last position only."""

    def forward(self, idx, state=None):
        logits, state = super().forward(idx, state)
        return logits[:, -1], state


class BareTensorState(TinyRnn):
    """Returns the hidden tensor itself as the state, not a tuple."""

    def forward(self, idx, state=None):
        logits, (h,) = super().forward(idx, None if state is None else (state,))
        return logits, h


class IntegerPositionInState(TinyRnn):
    """Carries its position as a Python int inside the state tuple."""

    def init_state(self, batch_size):
        return (*super().init_state(batch_size), 0)

    def forward(self, idx, state=None):
        position = 0 if state is None else state[1]
        logits, (h,) = super().forward(idx, None if state is None else state[:1])
        return logits, (h, position + idx.shape[1])


class InitStateWithoutLayerAxis(TinyRnn):
    """init_state gives (B, H) while forward's state is (1, B, H)."""

    def init_state(self, batch_size):
        return (torch.zeros(batch_size, self.hidden),)

    def start(self, idx, state):
        return torch.zeros(1, idx.shape[0], self.hidden) if state is None else state[0]


class InitStateOfOnes(TinyRnn):
    """init_state is all ones, but state=None starts from zeros."""

    def init_state(self, batch_size):
        return (torch.ones(1, batch_size, self.hidden),)

    def start(self, idx, state):
        return torch.zeros(1, idx.shape[0], self.hidden) if state is None else state[0]


class IgnoresCarriedState(TinyRnn):
    """Starts every call from the initial state, whatever state it is given."""

    def start(self, idx, state):
        return self.init_state(idx.shape[0])[0]


class PeeksAtTheNextToken(torch.nn.Module):
    """Stateless, but position t's logits also see token t + 1: not causal."""

    def __init__(self, config: TinyConfig, vocab_size: int) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, config.hidden)
        self.head = torch.nn.Linear(config.hidden, vocab_size)

    def init_state(self, batch_size):
        return ()

    def forward(self, idx, state=None):
        following = torch.cat([idx[:, 1:], idx[:, -1:]], dim=1)  # (B, T)
        return self.head(self.embed(idx) + self.embed(following)), ()


class ReturnsStateOfFirstToken(TinyRnn):
    """Steps correctly one token at a time, but a longer forward returns a stale state."""

    def forward(self, idx, state=None):
        out, _ = self.rnn(self.embed(idx), self.start(idx, state))  # (B, T, H)
        return self.head(out), (out[:, :1].transpose(0, 1).contiguous(),)


class UnusedLayer(TinyRnn):
    """Holds a layer that forward never uses, so its parameters get no gradient."""

    def __init__(self, config: TinyConfig, vocab_size: int) -> None:
        super().__init__(config, vocab_size)
        self.unused = torch.nn.Linear(2, 2)


class SqrtOfZero(TinyRnn):
    """Adds sqrt(p) with p = 0: finite logits, infinite gradient for p."""

    def __init__(self, config: TinyConfig, vocab_size: int) -> None:
        super().__init__(config, vocab_size)
        self.offset = torch.nn.Parameter(torch.zeros(()))

    def forward(self, idx, state=None):
        logits, state = super().forward(idx, state)
        return logits + torch.sqrt(self.offset), state


class RandomUnsavedBuffer(TinyRnn):
    """Adds a random bias kept in a non-persistent buffer: a reloaded model draws another."""

    def __init__(self, config: TinyConfig, vocab_size: int) -> None:
        super().__init__(config, vocab_size)
        self.register_buffer("noise", torch.randn(vocab_size), persistent=False)

    def forward(self, idx, state=None):
        logits, state = super().forward(idx, state)
        return logits + self.noise, state


class NotAModule:
    """Has forward and init_state but is a plain object, so it cannot be saved or exported."""

    def __init__(self, config: TinyConfig, vocab_size: int) -> None:
        self.model = TinyRnn(config, vocab_size)

    def __call__(self, idx, state=None):
        return self.model(idx, state)

    def init_state(self, batch_size):
        return self.model.init_state(batch_size)


def test_check_architecture_passes_a_correct_small_architecture():
    check_architecture(TinyRnn, TinyConfig())


@pytest.mark.parametrize(("factory", "message"), [
    (LastLogitsOnly, r"logits have shape \(2, 23\), expected \(2, 7, 23\)"),
    (BareTensorState, r"the state returned by forward must be a tuple of tensors, got "
                      r"<class 'torch.Tensor'>"),
    (IntegerPositionInState, r"the state returned by forward must be a tuple of tensors, "
                             r"but element 1 is a int"),
    (InitStateWithoutLayerAxis, r"state\[0\] is \(1, 2, 8\) torch.float32 after forward but "
                                r"\(2, 8\) torch.float32 from init_state"),
    (InitStateOfOnes, r"init_state differs from state=None by"),
    (IgnoresCarriedState, r"stepping one token at a time differs from the full forward by"),
    (PeeksAtTheNextToken, r"stepping one token at a time differs from the full forward by"),
    (ReturnsStateOfFirstToken, r"continuing from the state a multi-token forward returns "
                               r"differs from the full forward by"),
    (UnusedLayer, r"parameter unused.weight got no gradient"),
    (SqrtOfZero, r"parameter offset has a non-finite grad"),
    (RandomUnsavedBuffer, r"a saved and reloaded model gives different logits"),
    (NotAModule, r"an architecture factory must return an nn.Module"),
], ids=lambda value: value.__name__ if isinstance(value, type) else "")
def test_check_architecture_rejects_a_broken_architecture(factory, message):
    with pytest.raises(AssertionError, match=message):
        check_architecture(factory, TinyConfig())


# --- check_exporter: the ONNX exporter passes, each broken exporter fails where it breaks ---

@pytest.fixture(scope="module")
def loaded_run(registry, trained_run):
    """The session's tiny trained gru-tied run, loaded once for this module."""
    return load_run(registry, trained_run)


@dataclass
class WordsConfig:
    words: str = "to be or not that is the question"  # what the export holds


class WordsExporter:
    """A correct minimal exporter: writes a word list and manifest; samples words from it."""

    def __init__(self, config: WordsConfig) -> None:
        self.config = config

    def manifest(self, loaded) -> dict:
        return {"exporter": "words", "trained_steps": loaded.step}

    def export(self, loaded, out_dir, log=print):
        manifest = self.manifest(loaded)
        with atomic.atomic_directory(Path(out_dir)) as temp:
            self.write(temp, manifest)
        log(f"exported {len(self.config.words.split())} words to {out_dir}")
        return manifest

    def write(self, directory: Path, manifest: dict) -> None:
        (directory / "words.txt").write_text(self.config.words)
        (directory / "manifest.json").write_text(json.dumps(manifest))

    def rng(self, seed):
        return random.Random(seed)

    def generate(self, registry, export_dir, *, prompt, max_new_tokens, settings, num_samples,
                 seed, on_text):
        words = (Path(export_dir) / "words.txt").read_text().split()
        rng = self.rng(seed)
        texts = [prompt + " ".join(rng.choice(words) for _ in range(max_new_tokens))
                 for _ in range(num_samples)]
        if on_text is not None and num_samples == 1:
            self.stream(texts[0], on_text)
        return texts

    def stream(self, text, on_text):
        for index in range(0, len(text), 5):
            on_text(text[index : index + 5])


class NoManifest(WordsExporter):
    """Writes its word list but no manifest.json."""

    def write(self, directory, manifest):
        (directory / "words.txt").write_text(self.config.words)


class ManifestWithoutExporter(WordsExporter):
    """Writes a manifest that does not say which exporter wrote it."""

    def manifest(self, loaded):
        return {"trained_steps": loaded.step}


class ReturnsNoManifest(WordsExporter):
    """Writes everything but returns None."""

    def export(self, loaded, out_dir, log=print):
        super().export(loaded, out_dir, log)


class ReturnsAnotherManifest(WordsExporter):
    """Returns a manifest with a key that manifest.json lacks."""

    def export(self, loaded, out_dir, log=print):
        return {**super().export(loaded, out_dir, log), "quantized": "int8"}


class LeavesItsBuildDirectory(WordsExporter):
    """Builds beside out_dir, then copies instead of renaming."""

    def export(self, loaded, out_dir, log=print):
        build = Path(out_dir).parent / ".export.partial"
        build.mkdir()
        manifest = self.manifest(loaded)
        self.write(build, manifest)
        shutil.copytree(build, out_dir)
        return manifest


class WritesInPlace(WordsExporter):
    """Writes straight into out_dir, even one that already holds files."""

    def export(self, loaded, out_dir, log=print):
        Path(out_dir).mkdir(exist_ok=True)
        manifest = self.manifest(loaded)
        self.write(Path(out_dir), manifest)
        return manifest


class LeavesItsBuildDirectoryOnFailure(WordsExporter):
    """Renames a temporary build into place but never removes it when the rename fails."""

    def export(self, loaded, out_dir, log=print):
        build = Path(tempfile.mkdtemp(prefix=".export.", dir=Path(out_dir).parent))
        manifest = self.manifest(loaded)
        self.write(build, manifest)
        os.rename(build, out_dir)
        return manifest


class RefusesAnExistingEmptyDirectory(WordsExporter):
    """Refuses any out_dir that exists, though ``zoo export --out`` passes empty ones."""

    def export(self, loaded, out_dir, log=print):
        if Path(out_dir).exists():
            raise FileExistsError(f"{out_dir} exists")
        return super().export(loaded, out_dir, log)


class SkipsANonEmptyDirectory(WordsExporter):
    """Silently does nothing when out_dir already holds files, as if the export had worked."""

    def export(self, loaded, out_dir, log=print):
        if Path(out_dir).exists() and any(Path(out_dir).iterdir()):
            return self.manifest(loaded)
        return super().export(loaded, out_dir, log)


class HalfMadeWhenStopped(WordsExporter):
    """Writes straight into out_dir (refusing a non-empty one) and logs between two files,
    so an export stopped at that line leaves an out_dir without its manifest."""

    def export(self, loaded, out_dir, log=print):
        out_dir = Path(out_dir)
        if out_dir.exists() and any(out_dir.iterdir()):
            raise FileExistsError(f"{out_dir} is not empty")
        out_dir.mkdir(exist_ok=True)
        (out_dir / "words.txt").write_text(self.config.words)
        log("wrote words.txt")
        manifest = self.manifest(loaded)
        (out_dir / "manifest.json").write_text(json.dumps(manifest))
        return manifest


class OneSampleOnly(WordsExporter):
    """Generates one sample whatever num_samples asks for."""

    def generate(self, registry, export_dir, **options):
        return super().generate(registry, export_dir, **{**options, "num_samples": 1})


class IgnoresTheSeed(WordsExporter):
    """Draws from an unseeded generator."""

    def rng(self, seed):
        return random.Random()


class RemembersItsExport(WordsExporter):
    """generate reads what export kept in memory, so a fresh exporter (zoo sample's) fails."""

    def export(self, loaded, out_dir, log=print):
        self.words = self.config.words.split()
        return super().export(loaded, out_dir, log)

    def generate(self, registry, export_dir, *, num_samples, **options):
        return [" ".join(self.words)] * num_samples


class StreamsSomethingElse(WordsExporter):
    """Streams word by word with a space after the last word too: not the returned text."""

    def stream(self, text, on_text):
        for word in text.split(" "):
            on_text(word + " ")


@pytest.mark.parametrize(("factory", "message"), [
    (NoManifest, r"out_dir has no manifest.json"),
    (ManifestWithoutExporter, r'manifest.json must name its exporter in "exporter"'),
    (ReturnsNoManifest, r"export must return the manifest as a dict, got NoneType"),
    (ReturnsAnotherManifest, r"export returned a manifest that differs from manifest.json"),
    (LeavesItsBuildDirectory, r"export left \['.export.partial'\] beside out_dir"),
    (WritesInPlace, r"exporting into a non-empty out_dir changed what was in it"),
    (LeavesItsBuildDirectoryOnFailure, r"a failed export left \['.export\..*'\] beside out_dir"),
    (RefusesAnExistingEmptyDirectory, r"export into an existing empty out_dir raised "
                                      r"FileExistsError: .* exists"),
    (SkipsANonEmptyDirectory, r"exporting into a non-empty out_dir must raise, not succeed"),
    (HalfMadeWhenStopped, r"an export stopped part way \(its log raised\) left a half-made "
                          r"out_dir without manifest.json"),
    (OneSampleOnly, r"generate returned 1 samples for num_samples=2"),
    (IgnoresTheSeed, r"generate with the same seed gave different samples"),
    (RemembersItsExport, r"generate raised AttributeError: .*'words'"),
    (StreamsSomethingElse, r"the pieces passed to on_text do not join to the text generate "
                           r"returned"),
], ids=lambda value: value.__name__ if isinstance(value, type) else "")
def test_check_exporter_rejects_a_broken_exporter(registry, loaded_run, factory, message):
    with pytest.raises(AssertionError, match=message):
        check_exporter(factory, WordsConfig(), loaded_run, registry)


def test_check_exporter_passes_a_correct_third_party_exporter_given_a_run_directory(
        registry, trained_run):
    check_exporter(WordsExporter, WordsConfig(), trained_run, registry)


# --- check_logger: the tensorboard logger passes, each broken logger fails where it breaks ---

def test_check_logger_passes_the_tensorboard_logger(registry):
    component = registry.get("logger", "tensorboard")
    check_logger(component.load_factory(), component.default_config())


def test_check_logger_sends_one_record_of_each_kind_training_sends(tmp_path):
    calls = []

    class Recorder:
        def start(self, run_dir, run_config):
            calls.append(("start", run_dir, sorted(run_config)))

        def record(self, entry):
            calls.append(("record", entry["split"], entry["step"]))

        def close(self):
            calls.append(("close",))

    check_logger_session(Recorder(), tmp_path)
    assert calls[0] == ("start", tmp_path, ["dataset", "model", "tokenizer", "train"])
    assert {call[1] for call in calls[1:-1]} == {"train", "val", "sample"}
    assert calls[-1] == ("close",)


class TextLogger:
    """A correct minimal logger: one line per record in RUN/log.txt."""

    def __init__(self, config: NoConfig) -> None:
        self.file = None

    def start(self, run_dir, run_config):
        self.file = open(Path(run_dir) / "log.txt", "a", encoding="utf-8")  # noqa: SIM115

    def record(self, entry):
        self.file.write(f"{entry['step']} {entry['split']} {entry.get('loss', '')}\n")

    def close(self):
        self.file.close()


class NoClose(TextLogger):
    """Has start and record, but close is a property, not a method."""

    close = None


class ExpectsALossInEveryRecord(TextLogger):
    """Reads ``loss`` from every record, but samples carry prompt and text instead."""

    def record(self, entry):
        self.file.write(f"{entry['step']} {entry['loss']:.3f}\n")


class PopsTheSplit(TextLogger):
    """Takes ``split`` out of the record, which the run's other loggers then miss."""

    def record(self, entry):
        split = entry.pop("split")
        self.file.write(f"{entry['step']} {split}\n")


class NeedsAFreshFolder(TextLogger):
    """Makes RUN/logs without exist_ok, so a resumed run's logger cannot start."""

    def start(self, run_dir, run_config):
        (Path(run_dir) / "logs").mkdir()
        self.file = open(Path(run_dir) / "logs" / "log.txt", "a", encoding="utf-8")  # noqa: SIM115


class ClosesTwice(TextLogger):
    """Closes its file, then writes a last line to it."""

    def close(self):
        self.file.close()
        self.file.write("closed\n")


def test_check_logger_passes_a_correct_small_logger():
    check_logger(TextLogger, NoConfig())


@pytest.mark.parametrize(("factory", "message"), [
    (NoClose, r"a logger must have start\(run_dir, run_config\), record\(entry\) and close\(\); "
              r"NoClose has no close\(\)"),
    (ExpectsALossInEveryRecord, r"record\(\{'step': 4, 'split': 'sample', .*\) raised "
                                r"KeyError: 'loss'"),
    (PopsTheSplit, r"record\(\) changed the entry it was given"),
    (NeedsAFreshFolder, r"start\(run_dir, run_config\) raised FileExistsError: .* \(a second "
                        r"logger, started where the first one wrote, as a resumed run starts "
                        r"one\)"),
    (ClosesTwice, r"close\(\) raised ValueError: I/O operation on closed file"),
], ids=lambda value: value.__name__ if isinstance(value, type) else "")
def test_check_logger_rejects_a_broken_logger(factory, message):
    with pytest.raises(AssertionError, match=message):
        check_logger(factory, NoConfig())


BROKEN_LOGGER_PLUGIN = """
from dataclasses import dataclass

from zoo import hookimpl

ZOO_PLUGIN_API = 2


@dataclass
class QuietConfig:
    \"\"\"No options.\"\"\"


class Quiet:
    \"\"\"Forgets to define record: training would fail at its first record.\"\"\"

    def __init__(self, config):
        pass

    def start(self, run_dir, run_config):
        pass

    def close(self):
        pass


@hookimpl
def zoo_register_loggers(register):
    register("quiet", summary="a logger without record", config=QuietConfig,
             factory=f"{__name__}:Quiet")
"""


def test_check_logger_rejects_a_broken_logger_registered_by_a_plugin(make_plugin):
    plugin = make_plugin("quiet-logger", BROKEN_LOGGER_PLUGIN)
    registry = load_registry([*installed_entry_points(), plugin], disabled=set(), strict=True)
    component = registry.get("logger", "quiet")
    assert component.provider.distribution == "fake-dist"
    with pytest.raises(AssertionError, match=r"Quiet has no record\(\)"):
        check_logger(component.load_factory(), component.default_config())
