"""The export directory's layout and ``manifest.json``, readable without torch.

    exports/NAME/
      model.onnx      the one-token step graph
      tokenizer/      what the run's tokenizer saved
      manifest.json   tensors and their roles, state wiring, vocabulary, how to tokenize,
                      sampling defaults, checksums, and "providers": the plugin,
                      distribution and version that provided the architecture, the
                      tokenizer and the exporter

Format 2 is described by ``manifest.schema.json`` (JSON Schema 2020-12), shipped
beside this module: every manifest is checked against it when an exporter writes
it (:func:`check_written`) and when zoo reads it (:func:`read_manifest`). Format 1
exports are still read; :func:`read_manifest` gives them format 2's shape.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

from zoo.plugin import MAX_REASON, ZooError, damaged, read_json, require_keys

FORMAT_VERSION = 2
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.onnx"
TOKENIZER_DIR = "tokenizer"
PROVIDERS_KEY = "providers"
RE_EXPORT = "re-export the run with `zoo export RUN --onnx`"
#: The JSON Schema of format :data:`FORMAT_VERSION`, a file of this package.
SCHEMA_FILE = "manifest.schema.json"
#: The schema's ``$id``; it ends with the format version it describes.
SCHEMA_ID = f"urn:zoo-lm:export-manifest:{FORMAT_VERSION}"
#: The roles of the graph's tensors that a client looks for by role (exactly one each).
TOKEN_ROLE, LOGITS_ROLE, STATE_ROLE = "token", "logits", "state"
_WHAT = "the export manifest"


def inside_export(export_dir: Path, relative: Any, what: str) -> Path:
    """``export_dir / relative``, refused unless it stays inside the export directory.

    A manifest comes with the export, from whoever sent it, and its sha256 sits
    in the same file, so it proves nothing: a path that is absolute, climbs
    out with ``..`` or leaves through a symlink is refused, never read.
    """
    root = Path(export_dir).resolve()
    if not isinstance(relative, str) or not relative:
        raise ZooError(f"{MANIFEST_FILE} in {str(export_dir)!r} gives no path for {what}; "
                       "re-export the run")
    target = (root / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(root):
        raise ZooError(f"{MANIFEST_FILE} in {str(export_dir)!r} points {what} outside the "
                       f"export ({relative!r}); refused: only files inside an export are read")
    return target


def read_manifest(export_dir: Path, verify: bool = True) -> dict[str, Any]:
    """The manifest of an export directory, checked, in format 2's shape, against its model.

    A format 1 manifest is checked by the rules of format 1 and given format 2's
    fields in memory (:func:`upgraded_from_format_1`); ``format_version`` stays 1.
    """
    export_dir = Path(export_dir)
    path = export_dir / MANIFEST_FILE
    if not export_dir.is_dir():
        raise ZooError(f"export directory {str(export_dir)!r} does not exist; "
                       "make one with `zoo export RUN --onnx`")
    if not path.exists():
        raise ZooError(f"{str(export_dir)!r} is not a zoo export: it has no {MANIFEST_FILE}")
    manifest: dict[str, Any] = read_json(path, _WHAT, RE_EXPORT)
    require_keys(manifest, {"format_version": int}, path, _WHAT, RE_EXPORT)
    if manifest["format_version"] > FORMAT_VERSION:
        raise ZooError(f"{str(export_dir)!r} has export format {manifest['format_version']}, "
                       f"newer than this zoo reads ({FORMAT_VERSION}); upgrade zoo-lm")
    check_manifest(manifest, path)
    if manifest["format_version"] == 1:
        manifest = upgraded_from_format_1(manifest)
    if verify:
        model = inside_export(export_dir, manifest.get("model_file"), "the model file")
        digest = hashlib.sha256(model.read_bytes()).hexdigest() if model.exists() else "missing"
        if digest != manifest["model_sha256"]:
            raise ZooError(f"{model} does not match the sha256 in {MANIFEST_FILE}; re-export it")
    return manifest


def token_and_logits(manifest: dict[str, Any]) -> tuple[str, str]:
    """The names of the step's token input and logits output (a format 1 manifest names
    them by convention: input_ids and logits)."""
    def named(tensors: list[dict[str, Any]], role: str, default: str) -> str:
        return next((t["name"] for t in tensors if t.get("role") == role), default)

    return (named(manifest["inputs"], TOKEN_ROLE, "input_ids"),
            named(manifest.get("outputs", []), LOGITS_ROLE, "logits"))


def check_manifest(manifest: dict[str, Any], path: Path) -> None:
    """Check a received manifest: :data:`SCHEMA_FILE` and what a schema cannot say.

    Format 1 is checked by its own rules (:func:`check_format_1`). Whatever
    fails is :func:`~zoo.files.reading.damaged`, one line naming the field. The
    shapes themselves are checked against the model by the sampler.
    """
    if manifest.get("format_version") == 1:
        check_format_1(manifest, path)
        return
    problem = schema_problem(manifest) or consistency_problem(manifest)
    if problem:
        raise damaged(path, _WHAT, RE_EXPORT, problem)


def check_written(manifest: dict[str, Any]) -> None:
    """Refuse a manifest an exporter built that fails :data:`SCHEMA_FILE`: a bug, said loudly.

    Checks what ``json.dumps`` would write (tuples become lists), so call it
    just before writing. Raises RuntimeError: no user's mistake makes an
    exporter build an invalid manifest, so the traceback is wanted.
    """
    written = json.loads(json.dumps(manifest))
    problem = schema_problem(written) or consistency_problem(written)
    if problem:
        raise RuntimeError(
            f"the export manifest zoo built fails {SCHEMA_FILE} ({problem}); nothing was "
            "written. This is a bug in zoo or in the plugin that provided that field: "
            "please report it")


@functools.cache
def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of format :data:`FORMAT_VERSION` (``zoo_exports/manifest.schema.json``)."""
    text = resources.files("zoo_exports").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> Any:
    """A validator of :func:`manifest_schema`, built once (jsonschema is imported here only)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(manifest_schema())


def schema_problem(manifest: Any) -> str | None:
    """The most relevant way ``manifest`` fails :data:`SCHEMA_FILE`, as one short line
    naming the field (``'state[0].dtype': 'float64' is not one of ...``); None if it passes."""
    from jsonschema.exceptions import best_match

    errors = list(_validator().iter_errors(manifest))
    if not errors:
        return None
    # the deepest failure names the field best ('inputs[0].role' over 'inputs'); within an
    # anyOf, jsonschema's best_match picks the branch the value was meant for
    error = best_match([max(errors, key=lambda e: len(e.absolute_path))])
    field = _field(error.absolute_path)
    if error.validator == "required":
        missing = next((key for key in error.validator_value if key not in error.instance),
                       "?")
        return f"'{_field([*error.absolute_path, missing])}' is missing"
    if error.validator in ("contains", "minContains", "maxContains"):
        role = error.schema["contains"]["properties"]["role"]["const"]
        return f"'{field}' must hold exactly one entry with role {role!r}"
    shown = repr(error.instance)
    short = shown if len(shown) <= 40 else shown[:37] + "..."
    return _cut(f"'{field}': {error.message.replace(shown, short, 1)}")


def consistency_problem(manifest: dict[str, Any]) -> str | None:
    """What a manifest that passes the schema may still get wrong, as one line; else None.

    Each state entry must name an input and an output of role state with its own
    dtype and shape, ``"batch"`` exactly at its ``batch_axis``; every state input
    must be wired; the token input and the logits output have fixed forms; the
    portable tokenizer's ids must fit the vocabulary.
    """
    return (_state_problem(manifest) or _token_and_logits_problem(manifest)
            or _portable_problem(manifest))


def _state_problem(manifest: dict[str, Any]) -> str | None:
    """The first state entry that does not match its input and output, or None."""
    inputs = {t["name"]: t for t in manifest["inputs"] if t["role"] == STATE_ROLE}
    outputs = {t["name"]: t for t in manifest["outputs"] if t["role"] == STATE_ROLE}
    for index, wire in enumerate(manifest["state"]):
        where = f"state[{index}]"
        for side, tensors in (("input", inputs), ("output", outputs)):
            tensor = tensors.get(wire[side])
            if tensor is None:
                return f"'{where}.{side}' names no {side} of role state ({wire[side]!r})"
            if tensor["dtype"] != wire["dtype"]:
                return f"'{where}.dtype' is {wire['dtype']!r}, its {side} {tensor['dtype']!r}"
            if tensor["shape"] != wire["shape"]:
                return _cut(f"'{where}.shape': state {wire['input']!r} has shape "
                            f"{wire['shape']}, its {side} {tensor['shape']}")
        batch = [axis for axis, size in enumerate(wire["shape"]) if size == "batch"]
        if batch != ([] if wire["batch_axis"] is None else [wire["batch_axis"]]):
            return f"'{where}.batch_axis' is {wire['batch_axis']}, the shape {wire['shape']}"
    unwired = sorted(set(inputs) - {wire["input"] for wire in manifest["state"]})
    if unwired:
        return f"its state wires no output to {', '.join(unwired)}"
    return None


def _token_and_logits_problem(manifest: dict[str, Any]) -> str | None:
    """A token input other than int64 [batch, 1], or logits other than float32
    [batch, vocab_size]; else None."""
    token = next(t for t in manifest["inputs"] if t["role"] == TOKEN_ROLE)
    logits = next(t for t in manifest["outputs"] if t["role"] == LOGITS_ROLE)
    if (token["dtype"], token["shape"]) != ("int64", ["batch", 1]):
        return f"the token input {token['name']!r} is not int64 of shape ['batch', 1]"
    if (logits["dtype"], logits["shape"]) != ("float32", ["batch", manifest["vocab_size"]]):
        return (f"the logits output {logits['name']!r} is not float32 of shape "
                f"['batch', {manifest['vocab_size']}]")
    return None


def _portable_problem(manifest: dict[str, Any]) -> str | None:
    """Ids of ``tokenizer.portable`` outside the vocabulary, pieces of another count, or an
    end of text other than ``sampling.end_of_text``; else None."""
    portable = manifest["tokenizer"]["portable"]
    if portable is None:
        return None
    vocab = manifest["vocab_size"]
    if "pieces" in portable and len(portable["pieces"]) != vocab:
        return (f"'tokenizer.portable.pieces' has {len(portable['pieces'])} pieces for "
                f"vocab_size {vocab}")
    ids = {key: portable.get(key) for key in ("unknown_id", "end_of_text_id", "newline_id")}
    ids.update({f"special_ids[{i}]": v for i, v in enumerate(portable.get("special_ids", []))})
    for key, value in ids.items():
        if value is not None and value >= vocab:
            return f"'tokenizer.portable.{key}' is {value}, outside vocab_size {vocab}"
    if portable["end_of_text_id"] != manifest["sampling"]["end_of_text"]:
        return (f"'tokenizer.portable.end_of_text_id' is {portable['end_of_text_id']}, "
                f"sampling.end_of_text {manifest['sampling']['end_of_text']}")
    return None


def _field(path: Any) -> str:
    """A JSON path as one name: ``state[0].dtype``; the whole manifest is ``(manifest)``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(manifest)"


def _cut(text: str) -> str:
    """``text`` cut to :data:`~zoo.files.reading.MAX_REASON` characters."""
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def check_format_1(manifest: dict[str, Any], path: Path) -> None:
    """Check a format 1 manifest has every entry the sampler reads, each of the right type.

    The wiring of each state tensor is checked against the inputs it names.
    """
    def entries(value: Any, keys: dict[str, Any], what: str) -> None:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise damaged(path, _WHAT, RE_EXPORT, f"'{what}' is not a list")
        for entry in value:
            require_keys(entry, keys, path, _WHAT, RE_EXPORT)

    require_keys(manifest, {"format_version": int, "model_file": str, "model_sha256": str,
                            "vocab_size": int, "inputs": list, "outputs": list, "state": list,
                            "tokenizer": dict, "sampling": dict},
                 path, _WHAT, RE_EXPORT)
    for key in ("inputs", "outputs"):
        entries(manifest[key], {"name": str, "shape": list, "dtype": str}, key)
    entries(manifest["state"], {"input": str, "output": str, "initial": str}, "state")
    require_keys(manifest["tokenizer"], {"name": str, "config": dict, "directory": str},
                 path, _WHAT, RE_EXPORT)
    require_keys(manifest["sampling"], {"start_text": str}, path, _WHAT, RE_EXPORT)
    names = {entry["name"] for entry in manifest["inputs"]}
    for wire in manifest["state"]:
        axis = wire.get("batch_axis")
        if wire["input"] not in names or not (axis is None or type(axis) is int):
            raise damaged(path, _WHAT, RE_EXPORT,
                          f"state {wire['input']!r} does not match its inputs")
    for entry in manifest["inputs"]:
        if not all(size == "batch" or (type(size) is int and size >= 0)
                   for size in entry["shape"]):
            raise damaged(path, _WHAT, RE_EXPORT,
                          f"input {entry['name']!r} has shape {entry['shape']!r}")


def upgraded_from_format_1(manifest: dict[str, Any]) -> dict[str, Any]:
    """A checked format 1 manifest with format 2's fields, found the way format 1 implied them.

    Roles by name (``input_ids`` the token, ``logits`` the logits, the rest
    state), each state entry's dtype and shape from its input, no portable
    tokenizer (a reader rebuilds the tokenizer from its files) and no step limit.
    """
    upgraded = json.loads(json.dumps(manifest))
    roles = {"input_ids": TOKEN_ROLE, "logits": LOGITS_ROLE}
    for tensor in upgraded["inputs"] + upgraded["outputs"]:
        tensor.setdefault("role", roles.get(tensor["name"], STATE_ROLE))
    inputs = {tensor["name"]: tensor for tensor in upgraded["inputs"]}
    for wire in upgraded["state"]:
        wire.setdefault("batch_axis", None)
        wire.setdefault("dtype", inputs[wire["input"]]["dtype"])
        wire.setdefault("shape", inputs[wire["input"]]["shape"])
    upgraded["tokenizer"].setdefault("portable", None)
    upgraded.setdefault("max_steps", None)
    return upgraded


def recorded_provider(manifest: dict[str, Any], kind: str) -> Any:
    """The provider record the manifest keeps for ``kind``; None for exports made before."""
    providers = manifest.get(PROVIDERS_KEY)
    return providers.get(kind) if isinstance(providers, dict) else None
