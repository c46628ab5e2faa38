"""Small trained runs of every registered architecture, and their ONNX exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from small_runs import FEW_STEPS, SMALL_MODELS, invoke

from zoo.registry.host import Registry


@pytest.fixture(scope="session")
def train_small(registry: Registry, small_corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    """Train (once per session) a small run of an architecture; return its directory."""
    runs: dict[str, Path] = {}

    def train(name: str) -> Path:
        if name not in runs:
            out = tmp_path_factory.mktemp("onnx-runs") / name
            block = [] if "--block-size" in SMALL_MODELS.get(name, []) else ["--block-size", "32"]
            invoke(registry, "train", name, "--data", str(small_corpus), "--out", str(out),
                   *FEW_STEPS, *block, *SMALL_MODELS.get(name, []))
            runs[name] = out
        return runs[name]

    return train


@pytest.fixture(scope="session")
def export_small(registry: Registry, train_small, tmp_path_factory: pytest.TempPathFactory):
    """Export (once per session) the small run of an architecture; return (run, export, log)."""
    exports: dict[str, tuple[Path, Path, str]] = {}

    def export(name: str) -> tuple[Path, Path, str]:
        if name not in exports:
            run = train_small(name)
            out = tmp_path_factory.mktemp("onnx-exports") / name
            log = invoke(registry, "export", str(run), "--onnx", "--out", str(out))
            exports[name] = (run, out, log)
        return exports[name]

    return export


#: Options for each tokenizer's small run: vocabularies a 60,000-character corpus can fill.
TOKENIZER_OPTIONS = {
    "char": [], "byte": [], "word": ["--set", "tokenizer.vocab_size=500"],
    "bpe": ["--set", "tokenizer.vocab_size=300"],
    "sentencepiece": ["--set", "tokenizer.vocab_size=400"],
    "sentencepiece-bpe": ["--set", "tokenizer.vocab_size=400",
                          "--set", "tokenizer.model_type=bpe"],
}


@pytest.fixture(scope="session")
def export_with_tokenizer(registry: Registry, small_corpus: Path,
                          tmp_path_factory: pytest.TempPathFactory):
    """Train and export (once per session) a small gru run with a tokenizer (a key of
    :data:`TOKENIZER_OPTIONS`); return (run, export)."""
    made: dict[str, tuple[Path, Path]] = {}

    def export(tokenizer: str) -> tuple[Path, Path]:
        if tokenizer not in made:
            folder = tmp_path_factory.mktemp(f"tokenizer-{tokenizer}")
            run, out = folder / "run", folder / "export"
            invoke(registry, "train", "gru", "--data", str(small_corpus), "--out", str(run),
                   "--tokenizer", tokenizer.split("-")[0], *TOKENIZER_OPTIONS[tokenizer],
                   *FEW_STEPS,
                   "--block-size", "32", *SMALL_MODELS["gru"])
            invoke(registry, "export", str(run), "--onnx", "--out", str(out),
                   "--parity-steps", "16")
            made[tokenizer] = (run, out)
        return made[tokenizer]

    return export
