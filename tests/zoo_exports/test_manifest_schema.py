"""manifest.json stands alone: a versioned JSON Schema checks it when written and when read,
and what it says about tokens, tensors and state is enough to drive an export."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from cli_errors import one_line_error
from zoo.cli import cli
from zoo_exports.manifest import (
    FORMAT_VERSION,
    SCHEMA_FILE,
    SCHEMA_ID,
    consistency_problem,
    manifest_schema,
    read_manifest,
    schema_problem,
)

#: Each built-in tokenizer; sentencepiece-bpe has no exact tokenizer.json, so it keeps the
#: sentencepiece scheme.
TOKENIZERS = ["char", "byte", "word", "bpe", "sentencepiece", "sentencepiece-bpe"]
#: Text with a character no small run's vocabulary holds, newlines and runs of spaces.
ODD_TEXT = "ROMEO:\n  be \U0001f600 caf\u00e9,\n\n\tthee!\n"
ONNX_DTYPES = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64",
               onnx.TensorProto.FLOAT16: "float16"}


def _described(schema: Any, where: str = "") -> list[str]:
    """Names of the properties in ``schema`` that have no description (nor a $ref to one)."""
    missing = []
    if isinstance(schema, dict):
        for name, value in schema.get("properties", {}).items():
            if not (isinstance(value, dict) and ("description" in value or "$ref" in value)):
                missing.append(f"{where}.{name}")
        for key, value in schema.items():
            if key not in ("contains", "if"):  # conditions, not fields
                missing += _described(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            missing += _described(value, f"{where}[{index}]")
    return missing


def test_the_schema_is_a_versioned_json_schema_that_describes_every_field():
    schema = manifest_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID and SCHEMA_ID.endswith(f":{FORMAT_VERSION}")
    assert schema["properties"]["format_version"] == {
        "const": FORMAT_VERSION, "description": schema["properties"]["format_version"][
            "description"]}
    assert _described(schema) == []
    for name, definition in schema["$defs"].items():
        assert "description" in definition or definition.get("type") == "integer", name


def test_the_schema_ships_beside_the_module_that_reads_it():
    import zoo_exports.manifest

    shipped = Path(zoo_exports.manifest.__file__).with_name(SCHEMA_FILE)
    assert json.loads(shipped.read_text("utf-8")) == manifest_schema()


def _graph_tensors(values: Any) -> list[tuple[str, str, list[Any]]]:
    """(name, dtype, shape) of graph inputs or outputs, "batch" for the dynamic axis."""
    return [(v.name, ONNX_DTYPES[v.type.tensor_type.elem_type],
             [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim])
            for v in values]


def test_every_architecture_writes_a_manifest_its_graph_agrees_with(export_small,
                                                                   architecture_name):
    _, out, _ = export_small(architecture_name)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert schema_problem(manifest) is None and consistency_problem(manifest) is None
    graph = onnx.load(str(out / "model.onnx")).graph
    for tensors, values in (("inputs", graph.input), ("outputs", graph.output)):
        described = [(t["name"], t["dtype"], len(t["shape"])) for t in manifest[tensors]]
        assert described == [(n, d, len(shape)) for n, d, shape in _graph_tensors(values)]
        for tensor, (_, _, shape) in zip(manifest[tensors], _graph_tensors(values), strict=True):
            for said, size in zip(tensor["shape"], shape, strict=True):
                # the graph may leave a fixed size as a symbol of its own (mlp's window_out)
                assert said == size or (isinstance(size, str) and size != "batch"), tensor
    roles = [t["role"] for t in manifest["inputs"]], [t["role"] for t in manifest["outputs"]]
    assert roles == (["token"] + ["state"] * len(manifest["state"]),
                     ["logits"] + ["state"] * len(manifest["state"]))
    for wire in manifest["state"]:
        assert wire["initial"] == "zeros"  # every built-in starts from zeros
        batch = [axis for axis, size in enumerate(wire["shape"]) if size == "batch"]
        assert batch == [wire["batch_axis"]]
    assert manifest["max_steps"] is None


def _by_lines(encode_line: Any, newline: int | None) -> Any:
    """Encoding by ``encode_line``: lines apart, joined by ``newline``; whole text if None."""
    def encode(text: str) -> list[int]:
        if newline is None:
            return list(encode_line(text))
        ids: list[int] = []
        for index, line in enumerate(text.split("\n")):
            ids += ([newline] if index else []) + list(encode_line(line))
        return ids
    return encode


def _client_codec(manifest: dict[str, Any], export: Path) -> tuple[Any, Any]:
    """encode and decode written from the manifest's words alone, one scheme at a time."""
    portable = manifest["tokenizer"]["portable"]
    scheme, folder = portable["scheme"], export / manifest["tokenizer"]["directory"]
    if scheme == "byte":
        return (lambda text: list(text.encode("utf-8")),
                lambda out: bytes(i for i in out if i < 256).decode("utf-8", "replace"))
    if scheme == "char":
        pieces, specials = portable["pieces"], set(portable["special_ids"])
        ids = {piece: i for i, piece in enumerate(pieces) if i not in specials}
        return ((lambda text: [ids.get(c, portable["unknown_id"]) for c in text]),
                lambda out: "".join(pieces[i] for i in out))
    if scheme == "sentencepiece":
        import sentencepiece

        model = sentencepiece.SentencePieceProcessor(model_file=str(folder / portable["file"]))
        return _by_lines(model.encode, portable["newline_id"]), model.decode
    from tokenizers import Tokenizer  # word and huggingface: tokenizer.json

    library = Tokenizer.from_file(str(folder / portable["file"]))
    library.encode_special_tokens = True
    encode = _by_lines(lambda line: library.encode(line, add_special_tokens=False).ids,
                       portable.get("newline_id"))
    if scheme == "word":
        return encode, lambda out: "".join(portable["pieces"][i] for i in out)
    specials = set(portable["special_ids"])
    if portable.get("byte_fallback"):  # <0x..> pieces are bytes, "\u2581" a space, all UTF-8
        names = {i: piece for piece, i in library.get_vocab().items()}
        piece_bytes = {i: bytes([int(name[3:5], 16)]) if re.fullmatch(r"<0x[0-9A-F]{2}>", name)
                       else name.replace("\u2581", " ").encode() for i, name in names.items()}
        return encode, lambda out: b"".join(piece_bytes[i] for i in out
                                            if i not in specials).decode("utf-8", "replace")
    return encode, lambda out: library.decode([i for i in out if i not in specials])


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
def test_a_client_tokenizes_as_zoo_from_the_manifest_alone(registry, export_with_tokenizer,
                                                            tokenizer):
    """Encoding and decoding as the schema and docs/export-format.md describe each scheme give
    zoo's ids and text, for text with an unseen character, newlines and runs of spaces."""
    from zoo_exports.onnx_sampler import load_export_tokenizer

    _, export = export_with_tokenizer(tokenizer)
    manifest = read_manifest(export)
    zoo_tokenizer = load_export_tokenizer(registry, export, manifest)
    portable = manifest["tokenizer"]["portable"]
    assert portable == json.loads(json.dumps(zoo_tokenizer.portable()))
    assert portable["end_of_text_id"] == manifest["sampling"]["end_of_text"] is not None
    if "file" in portable:
        assert (export / manifest["tokenizer"]["directory"] / portable["file"]).is_file()
    encode, decode = _client_codec(manifest, export)
    ids = zoo_tokenizer.encode(ODD_TEXT)
    assert encode(ODD_TEXT) == ids
    assert portable["end_of_text_id"] not in ids  # text never encodes to end of text
    with_end = [portable["end_of_text_id"], *ids, portable["end_of_text_id"]]
    assert decode(with_end) == zoo_tokenizer.decode(with_end) == zoo_tokenizer.decode(ids)


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
def test_text_spelling_a_special_token_stays_text_for_a_client(registry, export_with_tokenizer,
                                                              tokenizer):
    """A prompt may contain "<|endoftext|>" as text: zoo encodes it as text, and so must a
    client that follows the manifest."""
    from zoo_exports.onnx_sampler import load_export_tokenizer

    _, export = export_with_tokenizer(tokenizer)
    manifest = read_manifest(export)
    text = "a <|endoftext|> <unk> <s>!"
    ids = load_export_tokenizer(registry, export, manifest).encode(text)
    assert _client_codec(manifest, export)[0](text) == ids


@pytest.mark.parametrize("tokenizer", ["byte", "bpe", "sentencepiece", "sentencepiece-bpe"])
def test_a_broken_utf8_sequence_decodes_for_a_client_as_for_zoo(registry, export_with_tokenizer,
                                                                tokenizer):
    """A barely trained model draws byte tokens that are no UTF-8: "ZZZZZ" then a lone
    continuation byte, a lone lead byte before a letter. A client decodes them as zoo does."""
    from zoo_exports.onnx_sampler import load_export_tokenizer

    _, export = export_with_tokenizer(tokenizer)
    manifest = read_manifest(export)
    zoo_tokenizer = load_export_tokenizer(registry, export, manifest)
    byte_ids = {b: zoo_tokenizer.encode(chr(b))[-1] for b in b"Zb"}
    if tokenizer == "byte":
        byte_ids.update({0x84: 0x84, 0xC5: 0xC5})
    else:  # the byte tokens of bpe's alphabet and of sentencepiece's byte fallback
        byte_ids.update({b: zoo_tokenizer.encode(text)[i] for b, text, i in
                         ((0x84, "\u0104", -1), (0xC5, "\u0144", 0))})
    ids = [byte_ids[b] for b in b"ZZZZZ\x84Z\xc5b"]
    assert _client_codec(manifest, export)[1](ids) == zoo_tokenizer.decode(ids)


def test_an_emoji_is_one_char_token(export_small):
    """A char is a code point: one <unk> for an emoji, not one per UTF-16 unit."""
    _, out, _ = export_small("gru")
    portable = read_manifest(out)["tokenizer"]["portable"]
    assert portable["unknown_id"] == 0 and portable["pieces"][0] == "\ufffd"
    assert portable["pieces"][portable["end_of_text_id"]] == ""
    encode, _ = _client_codec(read_manifest(out), out)
    assert encode("\U0001f600") == [0]


def _copy(export: Path, tmp_path: Path, edit: Any) -> Path:
    """A copy of ``export`` whose manifest ``edit`` changed."""
    copy = tmp_path / "received"
    shutil.copytree(export, copy)
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    manifest = edit(manifest) or manifest
    (copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return copy


def _set(path: str, value: Any) -> Any:
    """An edit that sets the field at ``path`` ("state.0.dtype") to ``value``, or deletes it."""
    def edit(manifest: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = manifest
        for part in parents:
            target = target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return edit


DELETE = object()

#: edit of a received gru-tied manifest -> what its one line must name
BAD_MANIFESTS = {
    "role missing": (_set("inputs.0.role", DELETE), "'inputs[0].role' is missing"),
    "no token input": (_set("inputs.0.role", "state"),
                       "'inputs' must hold exactly one entry with role 'token'"),
    "two logits": (_set("outputs.1.role", "logits"),
                   "'outputs' must hold exactly one entry with role 'logits'"),
    "state dtype": (_set("state.0.dtype", "float64"), "'state[0].dtype'"),
    "state shape missing": (_set("state.0.shape", DELETE), "'state[0].shape' is missing"),
    "batch axis elsewhere": (_set("state.0.batch_axis", 0), "'state[0].batch_axis' is 0"),
    "state shape unlike its input": (_set("state.0.shape", [2, "batch", 7]),
                                     "'state[0].shape': state 'h' has shape"),
    "initial not said": (_set("state.0.initial", DELETE), "'state[0].initial' is missing"),
    "unknown scheme": (_set("tokenizer.portable.scheme", "klingon"),
                       "'tokenizer.portable.scheme'"),
    "char without pieces": (_set("tokenizer.portable.pieces", DELETE),
                            "'tokenizer.portable.pieces' is missing"),
    "pieces cut short": (lambda m: m["tokenizer"]["portable"]["pieces"].pop() and None,
                         "'tokenizer.portable.pieces' has"),
    "end of text outside": (_set("tokenizer.portable.end_of_text_id", 10_000),
                            "'tokenizer.portable.end_of_text_id' is 10000"),
    "portable missing": (_set("tokenizer.portable", DELETE), "'tokenizer.portable' is missing"),
    "max_steps missing": (_set("max_steps", DELETE), "'max_steps' is missing"),
    "negative temperature": (_set("sampling.temperature", -1), "'sampling.temperature'"),
    "logits of another size": (_set("outputs.0.shape", ["batch", 3]), "the logits output"),
    "a sha256 that is not one": (_set("model_sha256", "abc"), "'model_sha256'"),
    "format 0": (_set("format_version", 0), "'format_version'"),
}


@pytest.mark.parametrize("case", list(BAD_MANIFESTS))
def test_a_received_manifest_that_fails_the_schema_is_one_line_naming_the_field(
        registry, export_small, tmp_path, case):
    edit, named = BAD_MANIFESTS[case]
    received = _copy(export_small("gru-tied")[1], tmp_path, edit)
    result = CliRunner().invoke(cli, ["sample", "--onnx", str(received), "--max-new-tokens",
                                      "3"], obj=registry)
    line = one_line_error(result)
    assert "manifest.json" in line and "is damaged" in line and "re-export" in line, line
    assert named in line, line


def _as_format_1(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as zoo wrote format 1: no roles, no state dtypes or shapes, no portable
    tokenizer, no max_steps, and the sampling fields of then."""
    for tensor in manifest["inputs"] + manifest["outputs"]:
        del tensor["role"]
    for wire in manifest["state"]:
        del wire["dtype"], wire["shape"]
    del manifest["tokenizer"]["portable"], manifest["max_steps"]
    manifest["format_version"] = 1
    return manifest


def test_a_format_1_export_still_samples_and_reads_as_format_2(registry, export_small,
                                                                tmp_path):
    _, export, _ = export_small("lstm")
    old = _copy(export, tmp_path, _as_format_1)
    options = ["--prompt", "ROMEO:", "--temperature", "0", "--max-new-tokens", "40"]
    now = CliRunner().invoke(cli, ["sample", "--onnx", str(export), *options], obj=registry)
    then = CliRunner().invoke(cli, ["sample", "--onnx", str(old), *options], obj=registry)
    assert then.exit_code == 0, then.output
    assert then.output == now.output
    manifest = read_manifest(old)
    assert manifest["format_version"] == 1
    assert [t["role"] for t in manifest["inputs"]] == ["token", "state", "state"]
    assert manifest["state"][1] == {**read_manifest(export)["state"][1]}
    assert manifest["tokenizer"]["portable"] is None and manifest["max_steps"] is None


def test_a_format_1_manifest_is_still_checked_by_its_own_rules(registry, export_small,
                                                               tmp_path):
    def damage(manifest: dict[str, Any]) -> None:
        _as_format_1(manifest)
        del manifest["outputs"]

    received = _copy(export_small("gru")[1], tmp_path, damage)
    result = CliRunner().invoke(cli, ["sample", "--onnx", str(received)], obj=registry)
    line = one_line_error(result)
    assert "is damaged ('outputs' is missing)" in line and "re-export" in line


def test_a_newer_format_asks_for_a_newer_zoo(registry, export_small, tmp_path):
    received = _copy(export_small("gru")[1], tmp_path, _set("format_version", FORMAT_VERSION + 1))
    result = CliRunner().invoke(cli, ["sample", "--onnx", str(received)], obj=registry)
    assert f"has export format {FORMAT_VERSION + 1}, newer than this zoo reads" in \
        one_line_error(result)


def test_an_exporter_that_builds_an_invalid_manifest_fails_loudly_and_writes_nothing(
        registry, train_small, tmp_path, monkeypatch):
    from zoo_plugins.tokenizers.char import CharTokenizer

    monkeypatch.setattr(CharTokenizer, "portable", lambda self: {"scheme": "char",
                                                                 "end_of_text_id": 1})
    out = tmp_path / "export"
    result = CliRunner().invoke(cli, ["export", str(train_small("bigram")), "--onnx", "--out",
                                      str(out), "--parity-steps", "4"], obj=registry)
    assert isinstance(result.exception, RuntimeError), result.output
    message = str(result.exception)
    assert SCHEMA_FILE in message and "'tokenizer.portable.pieces' is missing" in message
    assert "bug" in message and "nothing was written" in message
    assert not out.exists() and not any(tmp_path.iterdir())


def test_a_tokenizer_without_portable_exports_with_portable_null(registry, train_small,
                                                                 tmp_path, monkeypatch):
    """A third-party tokenizer need not describe itself; zoo still samples the export."""
    from zoo_plugins.tokenizers.char import CharTokenizer

    monkeypatch.delattr(CharTokenizer, "portable")
    out = tmp_path / "export"
    result = CliRunner().invoke(cli, ["export", str(train_small("bigram")), "--onnx", "--out",
                                      str(out), "--parity-steps", "4"], obj=registry)
    assert result.exit_code == 0, result.output
    assert read_manifest(out)["tokenizer"]["portable"] is None
    sampled = CliRunner().invoke(cli, ["sample", "--onnx", str(out), "--max-new-tokens", "5"],
                                 obj=registry)
    assert sampled.exit_code == 0, sampled.output


def test_an_npy_initial_state_is_repeated_along_the_batch_axis(export_small, tmp_path):
    """What the schema says of a .npy initial value: batch 1, repeated along batch_axis."""
    from zoo_exports.onnx_sampler import OnnxStep

    _, export, _ = export_small("gru")
    layers, _, hidden = read_manifest(export)["state"][0]["shape"]  # (layers, batch, hidden)
    value = np.arange(layers * hidden, dtype=np.float32).reshape(layers, 1, hidden) / hidden

    def learned(manifest: dict[str, Any]) -> None:
        manifest["state"][0]["initial"] = "initial_state/h.npy"

    received = _copy(export, tmp_path, learned)
    (received / "initial_state").mkdir()
    np.save(received / "initial_state" / "h.npy", value)
    state = OnnxStep(received).initial_state(3)["h"]
    assert state.shape == (layers, 3, hidden)
    assert all(np.array_equal(state[:, row], value[:, 0]) for row in range(3))
