"""The ``sentencepiece`` tokenizer: unigram or BPE models trained in-process, byte fallback.

Trained with identity normalization, no dummy prefix and whitespace kept as
is, so text round-trips exactly, with one exception SentencePiece imposes:
the character U+2581 (``▁``), its internal marker for a space, decodes as a
space. Characters outside the learned pieces are spelled with byte tokens
(``<0x0A>`` for a newline), so nothing is unknown in practice. Ids:
``<unk>`` 0, ``<s>`` 1, the end-of-text token ``<|endoftext|>`` 2 (the
model's end-of-sentence piece, a control symbol: ``encode`` never yields it,
``decode`` gives ``""``), then the 256 byte tokens and the learned pieces.
``sentencepiece.json`` beside the saved model names the end-of-text piece; a
run saved before zoo had document boundaries has none, and loads with
``end_of_text`` None (its ``</s>`` stays unused, as it was).

With ``tokenizer.path``, an existing SentencePiece ``.model`` file is used as
it is instead of training: its pieces, its normalization (text need not
round-trip) and its own end-of-text token, its end-of-sentence piece when
it has one (``eos_id >= 0``), else the first control symbol listed in
:data:`~zoo_plugins.tokenizers.special.END_OF_TEXT_PREFERENCE`; with
neither, ``end_of_text`` is None and the run has no document boundaries.
``save`` copies the model into the run, which then no longer needs the file.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from zoo.plugin import require
from zoo_plugins.tokenizers.special import END_OF_TEXT, choose_end_of_text

_FILE = "sentencepiece.model"
_INFO = "sentencepiece.json"  # which piece is end of text; absent in runs saved before it
_HUGGINGFACE_FILE = "tokenizer.json"  # the same model for Hugging Face tokenizers, when exact
NEWLINE = "\n"
SPACE = "\u2581"  # SentencePiece's mark for a space
_UNKNOWN = object()
#: Text that every rewritten model must encode exactly as SentencePiece does, with the
#: model's own pieces: runs of spaces, tabs, digits, marks, accents, scripts, emoji.
PROBE = ("ROMEO:  Is the day so young?\tAy,  sir;  'tis 1592 -- \"quoth\" he!  "
         "café naïve ünïcödé Ωμέγα 日本語 😀  ~@#$%^&*()_+[]{}|<>/\\ "
         "<unk> <s> </s> <|endoftext|> ")


def huggingface_form(model_proto: bytes, encode: Any) -> Any:
    """The model as a Hugging Face ``tokenizers`` Unigram that encodes like it, or None.

    Only a unigram model with byte fallback, identity normalization, no dummy
    prefix and whitespace kept (how zoo trains one) is rewritten: spaces become
    ``▁``, text is split before each ``▁``, and the pieces keep their scores.
    The rewrite is kept only if it encodes :data:`PROBE` and every piece's own
    text exactly as ``encode`` does, line by line. One difference is left: text
    that spells a byte piece (``<0x41>``) is that piece here, six characters in
    SentencePiece (the byte pieces keep their names: byte fallback finds them so).
    """
    from sentencepiece import sentencepiece_model_pb2
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined, unused-ignore]
    proto.ParseFromString(model_proto)
    trainer, normalizer = proto.trainer_spec, proto.normalizer_spec
    if (trainer.model_type != trainer.UNIGRAM or not trainer.byte_fallback
            or normalizer.name != "identity" or normalizer.add_dummy_prefix
            or normalizer.remove_extra_whitespaces or trainer.treat_whitespace_as_suffix):
        return None
    # SentencePiece never matches a control or unknown piece in text ("<s>" typed in a
    # prompt is three characters); written with a space, which the normalizer turns into
    # "▁", no text can match them either (their ids decode to "" as special tokens anyway)
    hidden = {proto.pieces[0].CONTROL, proto.pieces[0].UNKNOWN}
    vocab = [(" " + p.piece if p.type in hidden else p.piece, p.score) for p in proto.pieces]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=trainer.unk_id, byte_fallback=True))
    tokenizer.normalizer = normalizers.Replace(" ", SPACE)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPACE,
                                                       prepend_scheme="never", split=True)
    tokenizer.decoder = decoders.Sequence([decoders.Replace(SPACE, " "),
                                           decoders.ByteFallback(), decoders.Fuse()])
    normal = [p.piece.replace(SPACE, " ") for p in proto.pieces if p.type == p.NORMAL]
    for line in [PROBE, " ".join(normal), "".join(normal)]:
        if tokenizer.encode(line, add_special_tokens=False).ids != list(encode(line)):
            return None
    return tokenizer


@dataclass
class SentencePieceConfig:
    """Options of the ``sentencepiece`` tokenizer."""

    model_type: Literal["unigram", "bpe"] = "unigram"  # SentencePiece's algorithm
    vocab_size: int = 1024  # pieces, including the 256 byte-fallback tokens and 3 specials
    path: str | None = None  # an existing SentencePiece .model file to use instead of training

    def __post_init__(self) -> None:
        require(self, "vocab_size", at_least=260)  # at least one piece beyond bytes and specials


class SentencePieceTokenizer:
    """A SentencePiece model; lines are encoded in parallel, newlines as their byte token."""

    def __init__(self, config: SentencePieceConfig | None = None) -> None:
        self.config = config or SentencePieceConfig()
        self._processor: Any = None
        self._newline_id: int | None = None
        self.end_of_text: str | None = None  # its end-of-text piece, a key of special_tokens

    @property
    def vocab_size(self) -> int:
        return int(self._loaded().get_piece_size())

    @property
    def special_tokens(self) -> dict[str, int]:
        processor = self._loaded()
        special = {processor.id_to_piece(i): i for i in (processor.unk_id(), processor.bos_id(),
                                                         processor.eos_id()) if i >= 0}
        if self.end_of_text is not None:
            special.setdefault(self.end_of_text, int(processor.piece_to_id(self.end_of_text)))
        return special

    @property
    def unknown(self) -> str | None:
        """The unknown piece (byte fallback means a model trained by zoo never yields it)."""
        processor = self._loaded()
        return str(processor.id_to_piece(processor.unk_id())) if processor.unk_id() >= 0 else None

    def _loaded(self) -> Any:
        if self._processor is None:
            raise RuntimeError("the sentencepiece tokenizer must be trained or loaded first")
        return self._processor

    def _use(self, model_proto: bytes) -> None:
        import sentencepiece

        try:
            processor = sentencepiece.SentencePieceProcessor(model_proto=model_proto)
        except RuntimeError:  # its message is the C++ source line that failed to parse
            raise ValueError("it is not a SentencePiece model") from None
        if processor.get_piece_size() == 0:
            raise ValueError("it holds no SentencePiece model")
        self._processor = processor
        self._model_proto = model_proto
        self._huggingface_form: Any = _UNKNOWN  # made when first asked for
        # A newline is a piece of its own: the byte token of a byte-fallback model, or a "\n"
        # piece; a model with neither gets whole texts and treats newlines its own way.
        self._newline_id = next((i for i in map(processor.piece_to_id, ("<0x0A>", NEWLINE))
                                 if i != processor.unk_id()), None)
        self.end_of_text = own_end_of_text(processor)

    def train(self, texts: Sequence[str], vocab_size: int | None = None) -> None:
        """Train a model on ``texts``, or, with ``tokenizer.path``, read that file instead."""
        if self.config.path is not None:
            self._read_model_file(self.config.path)
            return
        import sentencepiece

        from zoo.plugin import ZooError

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
                eos_piece=END_OF_TEXT,  # the end-of-sentence control piece is end of text
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
        # A zoo-trained model has no piece containing a newline (it is only a byte token), so
        # lines encode independently and in parallel.
        processor = self._loaded()
        if self._newline_id is None:
            return list(processor.encode(text))
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

    def portable(self) -> dict[str, object]:
        """How clients outside Python encode: lines apart, joined by ``newline_id``.

        Scheme ``huggingface`` (``tokenizer.json``, which JavaScript reads with
        tokenizers.js) when :func:`huggingface_form` can rewrite the model
        exactly, else scheme ``sentencepiece`` (the model file itself).
        """
        common = {"newline_id": self._newline_id,
                  "end_of_text_id": self.special_tokens.get(self.end_of_text or ""),
                  "special_ids": sorted(set(self.special_tokens.values()))}
        if self._huggingface() is None:
            return {"scheme": "sentencepiece", "file": _FILE, **common}
        # byte_fallback: a character no piece holds is spelled with its UTF-8 byte tokens
        return {"scheme": "huggingface", "file": _HUGGINGFACE_FILE, "byte_fallback": True,
                **common}

    def _huggingface(self) -> Any:
        if self._huggingface_form is _UNKNOWN:
            self._huggingface_form = huggingface_form(self._model_proto, self.encode)
        return self._huggingface_form

    def save(self, directory: Path) -> None:
        self._loaded()
        (Path(directory) / _FILE).write_bytes(self._model_proto)
        if self._huggingface() is not None:  # for clients outside Python (the web page)
            self._huggingface().save(str(Path(directory) / _HUGGINGFACE_FILE))
        (Path(directory) / _INFO).write_text(json.dumps({"end_of_text": self.end_of_text}),
                                             "utf-8")

    def load(self, directory: Path) -> None:
        """Read the saved model; one saved without ``sentencepiece.json`` has no end of text."""
        self._use((Path(directory) / _FILE).read_bytes())
        info = Path(directory) / _INFO
        payload = json.loads(info.read_text("utf-8")) if info.exists() else {}
        end_of_text = payload.get("end_of_text") if isinstance(payload, dict) else ""
        processor = self._loaded()
        if end_of_text is not None and (
                not isinstance(end_of_text, str)
                or processor.id_to_piece(processor.piece_to_id(end_of_text)) != end_of_text):
            raise ValueError(f"{_INFO} names no piece of the model as 'end_of_text'")
        self.end_of_text = end_of_text

    def _read_model_file(self, path: str) -> None:
        """Use the model in ``path``; a missing or unreadable file is one ZooError."""
        from zoo.plugin import reading

        with reading(path, "tokenizer.path", "give it a SentencePiece .model file, or unset "
                     "tokenizer.path to train a sentencepiece tokenizer"):
            self._use(Path(path).expanduser().read_bytes())


def own_end_of_text(processor: Any) -> str | None:
    """The model's end-of-sentence piece, else its first preferred control piece, else None."""
    if processor.eos_id() >= 0:
        return str(processor.id_to_piece(processor.eos_id()))
    controls = (processor.id_to_piece(i) for i in range(processor.get_piece_size())
                if processor.is_control(i))
    return choose_end_of_text(controls)
