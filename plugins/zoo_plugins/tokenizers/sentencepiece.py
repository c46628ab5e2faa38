"""The ``sentencepiece`` tokenizer: unigram or BPE models trained in-process, byte fallback.

Trained with identity normalization, no dummy prefix and whitespace kept as
is, so text round-trips exactly, with one exception SentencePiece imposes:
the character U+2581 (``▁``), its internal marker for a space, decodes as a
space. Characters outside the learned pieces are spelled with byte tokens
(``<0x0A>`` for a newline), so nothing is unknown.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from zoo.config import require

_FILE = "sentencepiece.model"
NEWLINE = "\n"


@dataclass
class SentencePieceConfig:
    """Options of the ``sentencepiece`` tokenizer."""

    model_type: Literal["unigram", "bpe"] = "unigram"  # SentencePiece's algorithm
    vocab_size: int = 1024  # pieces, including the 256 byte-fallback tokens and 3 specials

    def __post_init__(self) -> None:
        require(self, "vocab_size", at_least=260)  # at least one piece beyond bytes and specials


class SentencePieceTokenizer:
    """A SentencePiece model; lines are encoded in parallel, newlines as their byte token."""

    def __init__(self, config: SentencePieceConfig | None = None) -> None:
        self.config = config or SentencePieceConfig()
        self._processor: Any = None
        self._newline_id = -1

    @property
    def vocab_size(self) -> int:
        return int(self._loaded().get_piece_size())

    @property
    def special_tokens(self) -> dict[str, int]:
        processor = self._loaded()
        return {processor.id_to_piece(i): i for i in (processor.unk_id(), processor.bos_id(),
                                                      processor.eos_id()) if i >= 0}

    def _loaded(self) -> Any:
        if self._processor is None:
            raise RuntimeError("the sentencepiece tokenizer must be trained or loaded first")
        return self._processor

    def _use(self, model_proto: bytes) -> None:
        import sentencepiece

        self._processor = sentencepiece.SentencePieceProcessor(model_proto=model_proto)
        self._model_proto = model_proto
        self._newline_id = self._processor.piece_to_id("<0x0A>")

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        import sentencepiece

        from zoo.errors import ZooError

        lines = [line for text in texts for line in text.split(NEWLINE) if line]
        model = io.BytesIO()
        try:
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(lines),
                model_writer=model,
                vocab_size=vocab_size or self.config.vocab_size,
                model_type=self.config.model_type,
                byte_fallback=True,
                character_coverage=1.0,
                normalization_rule_name="identity",
                add_dummy_prefix=False,
                remove_extra_whitespaces=False,
                allow_whitespace_only_pieces=True,
                split_digits=False,
                max_sentence_length=1 << 16,
                num_threads=2,
                minloglevel=2,
            )
        except RuntimeError as error:
            too_small = re.search(r"required_chars\. (\d+) vs (\d+)", str(error))
            if too_small:
                raise ZooError(
                    f"tokenizer.vocab_size={too_small[1]} is too small for this corpus: "
                    f"sentencepiece needs at least {too_small[2]} (its characters, the 256 "
                    "byte tokens and 3 specials)"
                ) from None
            reason = str(error).splitlines()[0].rpartition("] ")[2] or str(error)
            raise ZooError(f"sentencepiece could not train: {reason.strip()}") from None
        self._use(model.getvalue())

    def encode(self, text: str) -> list[int]:
        # No piece contains a newline (it is only a byte token), so lines encode independently.
        processor = self._loaded()
        lines = text.split(NEWLINE)
        encoded = processor.encode(lines, num_threads=2)
        ids: list[int] = []
        for index, line_ids in enumerate(encoded):
            if index:
                ids.append(self._newline_id)
            ids.extend(line_ids)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        return str(self._loaded().decode([int(i) for i in ids]))

    def save(self, directory: Path) -> None:
        self._loaded()
        (Path(directory) / _FILE).write_bytes(self._model_proto)

    def load(self, directory: Path) -> None:
        self._use((Path(directory) / _FILE).read_bytes())
