"""Contract checks for components, public so that a plugin's own tests can run them.

Every built-in component passes these checks in zoo's test suite; a
third-party one is checked by the very same call::

    from zoo.testing import check_architecture
    from my_package.model import TinyModel, TinyConfig

    def test_contract():
        check_architecture(TinyModel, TinyConfig())

- :func:`check_architecture` ``(factory, config, vocab_size=23, seed=0)``:
  the factory returns an ``nn.Module``; logits are (B, T, V); the state is a
  tuple of tensors whose shapes and dtypes ``init_state`` matches; every
  trainable parameter gets a finite gradient; ``init_state`` equals
  ``state=None``; one token at a time gives the full forward's logits, and
  so does continuing from the state a multi-token forward returns; weights
  saved with safetensors reload to identical logits.
- :func:`check_tokenizer` ``(factory, config, texts=None, vocab_size=None)``:
  ids in range, training text round-trips, unseen text handled, save then
  load identical.
- :func:`check_dataset` ``(factory, config)``: both splits are non-empty
  lists of strings, the same on every call; so is the test split, or
  ``texts("test")`` raises ``KeyError`` (the dataset has none).
- :func:`check_exporter` ``(factory, config, loaded_run, registry=None)``:
  ``export`` into a new or an empty ``out_dir`` writes it with a
  ``manifest.json`` naming the exporter, returns that manifest and leaves
  nothing beside ``out_dir``; into a non-empty ``out_dir`` it raises and
  changes nothing; stopped part way (its ``log`` raises) it leaves no
  half-made ``out_dir``; ``generate``, where it exists, returns ``num_samples``
  strings, streams pieces to ``on_text`` that join to the text, and gives
  the same text for the same seed.
- :func:`check_logger` ``(factory, config)``: ``start`` in a run directory,
  then ``record`` of every kind of record training sends (``train``, ``val``,
  ``sample``) and ``close``, each without error and without changing the
  record; a second logger started in the same directory, as a resumed run
  starts one, works too.
- :func:`check_pretrained` ``(name, registry=None)``: the installed trained
  model ``name`` registers its whole run directory, every file matches its
  sha256, its recorded val loss is what ``zoo eval`` gives on its weights (to
  1e-4), it samples, its model card has every section, and it refuses to be
  resumed in place.

Each check raises ``AssertionError`` with a message saying which part of the
contract failed.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.registry.contracts import OPTIONAL_SPLITS, SPLITS

if TYPE_CHECKING:
    from zoo.registry.host import Registry

TOLERANCE = 1e-5


def _as_tuple(state: Any, what: str) -> tuple[Any, ...]:
    """``state`` itself, after checking that it is a tuple of tensors."""
    import torch

    assert isinstance(state, tuple), f"{what} must be a tuple of tensors, got {type(state)}"
    for index, element in enumerate(state):
        assert isinstance(element, torch.Tensor), (
            f"{what} must be a tuple of tensors, but element {index} is a "
            f"{type(element).__name__}"
        )
    return state


def check_forward_shapes(model: Any, vocab_size: int, batch: int = 2, length: int = 7) -> None:
    """``forward(idx[B,T])`` returns logits (B, T, V) and a state that ``init_state`` matches."""
    import torch

    idx = torch.randint(0, vocab_size, (batch, length))
    logits, state = model(idx)
    assert tuple(logits.shape) == (batch, length, vocab_size), (
        f"logits have shape {tuple(logits.shape)}, expected {(batch, length, vocab_size)}"
    )
    state = _as_tuple(state, "the state returned by forward")
    initial = _as_tuple(model.init_state(batch), "init_state(batch_size)")
    assert len(state) == len(initial), "forward's state and init_state differ in length"
    for index, (returned, fresh) in enumerate(zip(state, initial, strict=True)):
        assert returned.shape == fresh.shape and returned.dtype == fresh.dtype, (
            f"state[{index}] is {tuple(returned.shape)} {returned.dtype} after forward but "
            f"{tuple(fresh.shape)} {fresh.dtype} from init_state"
        )


def check_backward(model: Any, vocab_size: int) -> None:
    """A loss on the logits gives a finite gradient to every trainable parameter."""
    import torch
    from torch.nn import functional as F

    model.train()
    model.zero_grad(set_to_none=True)
    idx = torch.randint(0, vocab_size, (3, 9))
    logits, _ = model(idx)
    F.cross_entropy(logits.reshape(-1, vocab_size), idx.roll(-1, 1).reshape(-1)).backward()
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            assert parameter.grad is not None, f"parameter {name} got no gradient"
            assert torch.isfinite(parameter.grad).all(), f"parameter {name} has a non-finite grad"
    model.zero_grad(set_to_none=True)


def check_initial_state(model: Any, vocab_size: int) -> None:
    """``forward(idx, init_state(B))`` equals ``forward(idx)`` (``None`` means initial)."""
    import torch

    model.eval()
    idx = torch.randint(0, vocab_size, (2, 6))
    with torch.no_grad():
        implicit, _ = model(idx)
        explicit, _ = model(idx, model.init_state(2))
    difference = (implicit - explicit).abs().max().item()
    assert difference <= TOLERANCE, f"init_state differs from state=None by {difference:.2e}"


def check_stepping(model: Any, vocab_size: int, length: int = 12) -> None:
    """One token at a time with the carried state gives the logits of one full forward."""
    import torch

    model.eval()
    idx = torch.randint(0, vocab_size, (2, length))
    with torch.no_grad():
        full, _ = model(idx)
        state = None
        steps = []
        for t in range(length):
            logits, state = model(idx[:, t : t + 1], state)
            steps.append(logits)
    difference = (full - torch.cat(steps, dim=1)).abs().max().item()
    assert difference <= TOLERANCE, (
        f"stepping one token at a time differs from the full forward by {difference:.2e}"
    )


def check_continuation(model: Any, vocab_size: int, length: int = 12) -> None:
    """The state a forward returns continues the sequence, whatever the chunk lengths.

    A prompt of several tokens, then single steps, then a chunk of several
    tokens, each fed with the state the previous call returned, give the
    logits of one full forward: sampling after a prompt and stateful
    (truncated-BPTT) training both rely on this.
    """
    import torch

    model.eval()
    idx = torch.randint(0, vocab_size, (2, length))
    prompt, steps_end = length // 3, 2 * length // 3
    with torch.no_grad():
        full, _ = model(idx)
        logits, state = model(idx[:, :prompt])
        pieces = [logits]
        for t in range(prompt, steps_end):
            logits, state = model(idx[:, t : t + 1], state)
            pieces.append(logits)
        logits, _ = model(idx[:, steps_end:], state)
        pieces.append(logits)
    difference = (full - torch.cat(pieces, dim=1)).abs().max().item()
    assert difference <= TOLERANCE, (
        f"continuing from the state a multi-token forward returns differs from the full "
        f"forward by {difference:.2e}"
    )


def check_save_load(build: Callable[[], Any], model: Any, vocab_size: int) -> None:
    """Weights saved with safetensors load into a fresh model that gives identical logits."""
    import torch
    from safetensors.torch import load_model, save_model

    model.eval()
    idx = torch.randint(0, vocab_size, (2, 8))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "model.safetensors"
        save_model(model, str(path))
        fresh = build()
        load_model(fresh, str(path))
    fresh.eval()
    with torch.no_grad():
        expected, _ = model(idx)
        actual, _ = fresh(idx)
    assert torch.equal(expected, actual), "a saved and reloaded model gives different logits"


def check_architecture(factory: Callable[..., Any], config: Any, vocab_size: int = 23,
                       seed: int = 0) -> None:
    """Run every architecture-contract check on ``factory(config, vocab_size)``.

    The factory returns an ``nn.Module``; then, in order:
    :func:`check_forward_shapes`, :func:`check_backward`,
    :func:`check_initial_state`, :func:`check_stepping`,
    :func:`check_continuation` and :func:`check_save_load`.
    """
    import torch

    torch.manual_seed(seed)

    def build() -> Any:
        return factory(config, vocab_size)

    model = build()
    assert isinstance(model, torch.nn.Module), "an architecture factory must return an nn.Module"
    check_forward_shapes(model, vocab_size)
    check_backward(model, vocab_size)
    check_initial_state(model, vocab_size)
    check_stepping(model, vocab_size)
    check_continuation(model, vocab_size)
    check_save_load(build, model, vocab_size)


SAMPLE_TEXTS = [
    "First Citizen:\nBefore we proceed any further, hear me speak.\n",
    "All:\nSpeak, speak.\n\nFirst Citizen:\nYou are all resolved rather to die than to famish?\n",
]


def check_tokenizer(factory: Callable[..., Any], config: Any,
                    texts: list[str] | None = None, vocab_size: int | None = None) -> None:
    """Run the tokenizer contract on ``factory(config)`` trained on ``texts``.

    Trained text round-trips through ``encode``/``decode`` (unless it encodes to
    the tokenizer's ``unknown`` token: a vocabulary capped below the text's); ids
    lie in ``[0, vocab_size)``; ``end_of_text`` and ``unknown``, where given,
    name keys of ``special_tokens``, and the end-of-text id decodes to nothing;
    ``save`` then ``load`` into a fresh tokenizer encodes
    and decodes identically; text with characters never seen in training is
    handled (ids in range, or a ``ValueError`` that says why), never a crash.
    """
    texts = texts or SAMPLE_TEXTS
    tokenizer = factory(config)
    tokenizer.train(texts, vocab_size)
    size = tokenizer.vocab_size
    assert isinstance(size, int) and size > 0, f"vocab_size must be a positive int, got {size!r}"
    special = dict(getattr(tokenizer, "special_tokens", {}) or {})
    for attribute in ("end_of_text", "unknown"):
        name = getattr(tokenizer, attribute, None)
        assert name is None or name in special, (
            f"{attribute} {name!r} is not one of special_tokens {sorted(special)}")
    unknown = special.get(getattr(tokenizer, "unknown", None) or "")
    end_of_text = special.get(getattr(tokenizer, "end_of_text", None) or "")
    if end_of_text is not None:
        assert tokenizer.decode([end_of_text]) == "", "the end-of-text id must decode to ''"
    for text in texts:
        ids = tokenizer.encode(text)
        assert all(isinstance(i, int) and 0 <= i < size for i in ids), (
            f"encode gave ids outside [0, {size}) or not ints: {ids[:10]}..."
        )
        decoded = tokenizer.decode(ids)
        assert decoded == text or unknown in ids, (
            f"training text does not round-trip: {text[:40]!r} -> {decoded[:40]!r}")
    unseen = "Zebra quartz \u00e9\u4e2d\U0001f600 \x00"
    try:
        ids = tokenizer.encode(unseen)
    except ValueError as error:
        assert str(error), "an unrepresentable input must raise with a message"
    else:
        assert all(0 <= i < size for i in ids), "encoding unseen text gave ids out of range"
        assert isinstance(tokenizer.decode(ids), str)
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer.save(Path(scratch))
        fresh = factory(config)
        fresh.load(Path(scratch))
    assert fresh.vocab_size == size, "a saved and reloaded tokenizer has another vocab_size"
    for text in texts:
        assert fresh.encode(text) == tokenizer.encode(text), (
            "a saved and reloaded tokenizer encodes differently"
        )


def _check_split(dataset: Any, split: str) -> None:
    """``texts(split)`` is a non-empty-in-total list of strings, the same on a second call."""
    documents = dataset.texts(split)
    assert isinstance(documents, list) and all(isinstance(d, str) for d in documents), (
        f"texts({split!r}) must return a list of str"
    )
    assert sum(len(d) for d in documents) > 0, f"texts({split!r}) is empty"
    assert dataset.texts(split) == documents, f"texts({split!r}) changes between calls"


def check_dataset(factory: Callable[..., Any], config: Any) -> None:
    """Run the dataset contract on ``factory(config)``.

    ``texts("train")`` and ``texts("val")`` return non-empty lists of
    non-empty-in-total strings, the same on a second call; ``texts("test")``
    does too, or raises ``KeyError`` (no test split). A dataset written before
    test splits, which raises ``ValueError`` for a split it does not know, passes
    as having none.
    """
    dataset = factory(config)
    for split in SPLITS:
        _check_split(dataset, split)
    for split in OPTIONAL_SPLITS:
        try:
            dataset.texts(split)
        except (KeyError, ValueError):  # no such split (ValueError: as datasets said it before)
            continue
        except Exception as error:
            raise AssertionError(
                f"texts({split!r}) raised {type(error).__name__}: {error}; a dataset without "
                f"a {split} split raises KeyError") from error
        _check_split(dataset, split)


def _listing(directory: Path) -> list[str]:
    return sorted(child.name for child in directory.iterdir())


def _snapshot(directory: Path) -> dict[str, bytes | None]:
    """Everything under ``directory`` by relative path: a file's bytes, ``None`` for a folder."""
    return {str(path.relative_to(directory)): path.read_bytes() if path.is_file() else None
            for path in sorted(directory.rglob("*"))}


def check_export_writes(exporter: Any, loaded_run: Any, out_dir: Path) -> dict[str, Any]:
    """``export`` into ``out_dir`` (new, or an empty folder) writes it and nothing beside it.

    ``out_dir`` holds a ``manifest.json`` naming its exporter in
    ``"exporter"``; the returned manifest is a dict equal to it (after a JSON
    round trip); ``log`` only ever receives strings. ``zoo export --out``
    accepts a folder that exists and is empty, so an exporter must too.
    Returns the written manifest.
    """
    import json

    parent = out_dir.parent
    where = "an existing empty out_dir" if out_dir.exists() else "a new out_dir"
    before = _listing(parent)
    logged: list[Any] = []
    try:
        returned = exporter.export(loaded_run, out_dir, log=logged.append)
    except Exception as error:  # say which case failed; the cause stays chained
        raise AssertionError(
            f"export into {where} raised {type(error).__name__}: {error}") from error
    assert all(isinstance(line, str) for line in logged), "export must log strings only"
    left = sorted(set(_listing(parent)) - set(before) - {out_dir.name})
    assert not left, (
        f"export left {left} beside out_dir: build in a temporary directory and rename it, "
        "removing the temporary one whatever happens"
    )
    assert out_dir.is_dir(), "export did not create out_dir"
    manifest_file = out_dir / "manifest.json"
    assert manifest_file.is_file(), "out_dir has no manifest.json"
    try:
        written = json.loads(manifest_file.read_text("utf-8"))
    except ValueError as error:
        raise AssertionError(f"manifest.json is not valid JSON: {error}") from None
    assert isinstance(written, dict), "manifest.json must hold a JSON object"
    exporter_name = written.get("exporter")
    assert isinstance(exporter_name, str) and exporter_name, (
        'manifest.json must name its exporter in "exporter" (zoo sample finds generate by it)'
    )
    assert isinstance(returned, dict), (
        f"export must return the manifest as a dict, got {type(returned).__name__}"
    )
    try:
        as_json = json.loads(json.dumps(returned))
    except (TypeError, ValueError) as error:
        raise AssertionError(f"the manifest export returns is not JSON: {error}") from None
    assert as_json == written, "export returned a manifest that differs from manifest.json"
    return written


def check_export_refuses_non_empty(exporter: Any, loaded_run: Any, out_dir: Path) -> None:
    """``export`` into an existing non-empty ``out_dir`` raises and leaves everything as it was."""
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("a user's file\n", "utf-8")
    before, existing = _listing(out_dir.parent), _snapshot(out_dir)
    try:
        exporter.export(loaded_run, out_dir, log=lambda line: None)
    except Exception:  # any error is a refusal; what matters is what is left
        raised = True
    else:
        raised = False
    assert _snapshot(out_dir) == existing, (
        "exporting into a non-empty out_dir changed what was in it"
    )
    left = sorted(set(_listing(out_dir.parent)) - set(before))
    assert not left, f"a failed export left {left} beside out_dir"
    assert raised, "exporting into a non-empty out_dir must raise, not succeed"


class _Interrupted(Exception):
    """Raised from ``log`` to stop an export part way."""


def check_export_interrupted(exporter: Any, loaded_run: Any, out_dir: Path) -> None:
    """An export stopped part way leaves no half-made ``out_dir`` and nothing beside it.

    The export is stopped by its first ``log`` line raising. Afterwards
    ``out_dir`` does not exist, or it is a finished export with its
    ``manifest.json`` (an exporter that logs only once its directory is in
    place); an exporter that never logs is never stopped, and passes.
    """
    parent = out_dir.parent
    before = _listing(parent)

    def stop(line: str) -> None:
        raise _Interrupted(line)

    # the error is _Interrupted, or whatever the exporter turned it into: what is left matters
    with contextlib.suppress(Exception):
        exporter.export(loaded_run, out_dir, log=stop)
    left = sorted(set(_listing(parent)) - set(before) - {out_dir.name})
    assert not left, f"an export stopped part way left {left} beside out_dir"
    assert not out_dir.exists() or (out_dir / "manifest.json").is_file(), (
        "an export stopped part way (its log raised) left a half-made out_dir without "
        "manifest.json: build in a temporary directory and rename it into place last")


def check_generate(exporter: Any, registry: Any, export_dir: Path, *, prompt: str = "",
                   max_new_tokens: int = 16, seed: int = 0) -> None:
    """``generate`` samples from the export: the right count, streamed, seed-reproducible.

    ``exporter`` should be a fresh one, not the one that exported: ``zoo
    sample --onnx DIR`` builds its own from the default config.

    ``num_samples=2`` gives a list of two strings, the same again with the
    same seed; with one sample, the pieces passed to ``on_text`` join to the
    returned text.
    """
    from zoo.sampling.loop import SamplingSettings

    def sample(num_samples: int, on_text: Callable[[str], None] | None = None) -> Any:
        try:
            return exporter.generate(
                registry, export_dir, prompt=prompt, max_new_tokens=max_new_tokens,
                settings=SamplingSettings(), num_samples=num_samples, seed=seed,
                on_text=on_text)
        except Exception as error:  # say which part failed; the cause stays chained
            raise AssertionError(
                f"generate raised {type(error).__name__}: {error} (it runs on a fresh "
                "exporter, as zoo sample builds one, and reads only the export)") from error

    texts = sample(2)
    assert isinstance(texts, list) and all(isinstance(text, str) for text in texts), (
        f"generate must return a list of str, got {type(texts).__name__}"
    )
    assert len(texts) == 2, f"generate returned {len(texts)} samples for num_samples=2"
    assert sample(2) == texts, "generate with the same seed gave different samples"
    pieces: list[Any] = []
    streamed = sample(1, pieces.append)
    assert isinstance(streamed, list) and len(streamed) == 1, (
        "generate must return a list of one str for num_samples=1"
    )
    assert all(isinstance(piece, str) for piece in pieces), "on_text must receive str pieces"
    assert "".join(pieces) == streamed[0], (
        "the pieces passed to on_text do not join to the text generate returned"
    )


def _default_config_like(config: Any) -> Any:
    """A config of the same dataclass with every default (what ``zoo sample`` builds with)."""
    import dataclasses

    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        return config
    config_class: Any = type(config)
    return config_class()


def check_exporter(factory: Callable[..., Any], config: Any, loaded_run: Any,
                   registry: Registry | None = None, *, prompt: str = "", max_new_tokens: int = 16,
                   seed: int = 0) -> None:
    """Run the exporter contract on ``factory(config)`` exporting ``loaded_run``.

    ``loaded_run`` is a :class:`zoo.models.loading.LoadedRun` or a run directory (loaded
    with ``registry``); ``registry`` (default: the installed plugins) is what
    ``generate`` receives to rebuild the tokenizer. Checks, each in a fresh
    scratch directory, so the run is exported four times (the last stopped part
    way): :func:`check_export_writes` into a path that does not exist yet, then, if
    the exporter has ``generate``, :func:`check_generate` on that export with
    a second exporter built from the config's defaults, as ``zoo sample``
    builds it; :func:`check_export_writes` into an existing empty folder;
    :func:`check_export_refuses_non_empty`; :func:`check_export_interrupted`.
    Nothing in it is particular to one exporter: the ``onnx`` and ``web``
    exporters pass the same check.
    """
    if registry is None:
        from zoo.registry.host import load_registry

        registry = load_registry()
    if isinstance(loaded_run, str | Path):
        from zoo.models.loading import load_run

        loaded_run = load_run(registry, loaded_run)
    exporter = factory(config)
    assert callable(getattr(exporter, "export", None)), "an exporter must have export()"
    with tempfile.TemporaryDirectory() as scratch:
        out_dir = Path(scratch) / "export"
        check_export_writes(exporter, loaded_run, out_dir)
        if hasattr(exporter, "generate"):
            check_generate(factory(_default_config_like(config)), registry, out_dir, prompt=prompt,
                           max_new_tokens=max_new_tokens, seed=seed)
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "export").mkdir()
        check_export_writes(factory(config), loaded_run, Path(scratch) / "export")
    with tempfile.TemporaryDirectory() as scratch:
        check_export_refuses_non_empty(factory(config), loaded_run, Path(scratch) / "export")
    with tempfile.TemporaryDirectory() as scratch:
        check_export_interrupted(factory(config), loaded_run, Path(scratch) / "export")


#: One record of each kind that training hands a logger, as ``metrics.jsonl`` holds them.
LOGGER_RECORDS: list[dict[str, Any]] = [
    {"step": 2, "split": "train", "loss": 3.91, "lr": 0.0005, "tokens_per_s": 12345.6,
     "elapsed_s": 0.4},
    {"step": 4, "split": "train", "loss": 3.52, "lr": 0.001, "tokens_per_s": 13001.2,
     "elapsed_s": 0.8},
    {"step": 4, "split": "val", "loss": 3.47, "perplexity": 32.1, "bits_per_char": 5.01,
     "bits_per_byte": 5.01, "accuracy": 0.17, "tokens": 512, "elapsed_s": 1.1},
    {"step": 4, "split": "sample", "prompt": "ROMEO:", "text": " the \u00e9 night\n",
     "elapsed_s": 1.2},
]

#: A run's four config sections, as ``start`` receives them (``RunConfig.to_dict()``).
LOGGER_RUN_CONFIG: dict[str, Any] = {
    "model": {"name": "gru-tied", "embed": 32, "hidden": 48, "layers": 2, "dropout": 0.0},
    "tokenizer": {"name": "char", "unknown": "unk"},
    "dataset": {"name": "tinyshakespeare", "path": None, "val_fraction": 0.1},
    "train": {"steps": 8, "batch_size": 4, "block_size": 32, "loggers": ["the logger"]},
}


def _call_logger(logger: Any, method: str, *arguments: Any, shown: str = "",
                 context: str = "") -> None:
    """``logger.method(*arguments)``, with a failure said as which call of the contract broke
    (``shown``: the arguments as the message writes them)."""
    try:
        getattr(logger, method)(*arguments)
    except Exception as error:  # say which call failed; the cause stays chained
        raise AssertionError(
            f"{method}({shown}) raised {type(error).__name__}: {error}{context}") from error


def check_logger_session(logger: Any, run_dir: Path,
                         records: list[dict[str, Any]] | None = None, context: str = "") -> None:
    """``start(run_dir, run_config)``, ``record`` each of ``records``, then ``close()``.

    ``records`` defaults to one of each kind training sends. The logger has
    all three methods; each call succeeds, and ``record`` leaves its entry as
    it was: every logger of a run receives the same dict. ``context`` ends
    each failure's message.
    """
    import copy

    missing = [method for method in ("start", "record", "close")
               if not callable(getattr(logger, method, None))]
    assert not missing, (
        f"a logger must have start(run_dir, run_config), record(entry) and close(); "
        f"{type(logger).__name__} has no {', '.join(f'{method}()' for method in missing)}"
        f"{context}")
    _call_logger(logger, "start", run_dir, copy.deepcopy(LOGGER_RUN_CONFIG),
                 shown="run_dir, run_config", context=context)
    for record in LOGGER_RECORDS if records is None else records:
        entry = copy.deepcopy(record)
        _call_logger(logger, "record", entry, shown=repr(record), context=context)
        assert entry == record, (
            f"record() changed the entry it was given ({record} became {entry}): every "
            f"logger of a run receives the same dict, so copy it before changing it{context}")
    _call_logger(logger, "close", context=context)


def check_logger(factory: Callable[..., Any], config: Any) -> None:
    """Run the logger contract on ``factory(config)``.

    In a fresh run directory: ``start(run_dir, run_config)``, then ``record``
    of a ``train``, a ``val`` and a ``sample`` record, as training sends
    them, then ``close()``; the logger has all three methods, each call
    succeeds and no record is changed (see :func:`check_logger_session`).
    A second logger from ``factory(config)`` then does the same in that
    directory, which the first one's files are in, as a resumed run does.
    """
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = Path(scratch) / "run"
        run_dir.mkdir()
        check_logger_session(factory(config), run_dir)
        resumed = [{**record, "step": record["step"] + 4} for record in LOGGER_RECORDS]
        check_logger_session(factory(config), run_dir, resumed, context=(
            " (a second logger, started where the first one wrote, as a resumed run starts "
            "one)"))


#: The sections every model card (``MODEL.md``) has.
CARD_SECTIONS = ("## Quality", "## How it was made", "## Training text", "## Samples")
#: How close a pretrained model's recorded val loss and ``zoo eval``'s must be.
PRETRAINED_LOSS_TOLERANCE = 1e-4


def check_pretrained(name: str, registry: Registry | None = None) -> None:
    """Run the pretrained-model contract on the installed model ``name``.

    It is registered (through its package's entry point, or in ``registry``);
    every file matches the sha256 it registered; the last val record of its
    ``metrics.jsonl`` (the one publishing measured on the shipped weights)
    equals ``zoo eval`` to 1e-4; it samples text; its ``MODEL.md`` starts with
    ``# NAME`` and has every section of :data:`CARD_SECTIONS`; resuming it is
    refused.
    """
    from zoo.errors import ZooError
    from zoo.models.loading import load_run
    from zoo.registry.host import load_registry
    from zoo.runs.pretrained import describe, verify
    from zoo.sampling.torch_sampler import generate
    from zoo.training.evaluation import evaluate_run
    from zoo.training.resume import resumed_run_config

    registry = registry if registry is not None else load_registry(strict=True)
    assert name in registry.pretrained, (
        f"no pretrained model {name!r} is registered; registered: "
        f"{', '.join(sorted(registry.pretrained)) or 'none'}")
    model = registry.pretrained[name]
    try:
        verify(model)
    except ZooError as error:
        raise AssertionError(f"a file of {name!r} does not match its sha256: {error}") from None
    listed = describe(model)
    assert listed["val_loss"] is not None, (
        f"{name!r} records no val loss in metrics.jsonl; publish it with "
        "zoo plugin new --kind pretrained --from RUN, which measures it")
    loaded = load_run(registry, model.directory)
    measured = evaluate_run(registry, loaded)["loss"]  # what zoo eval NAME gives
    assert abs(measured - listed["val_loss"]) <= PRETRAINED_LOSS_TOLERANCE, (
        f"{name!r} records val loss {listed['val_loss']:.6f}, but zoo eval gives "
        f"{measured:.6f} on its weights; publish it again")
    [text] = generate(loaded.model, loaded.tokenizer, max_new_tokens=20, seed=0)
    assert isinstance(text, str), f"{name!r} sampled {text!r}, not a string"
    card_file = model.directory / "MODEL.md"
    card = card_file.read_text("utf-8") if card_file.is_file() else ""
    missing = [section for section in CARD_SECTIONS if section not in card]
    assert card.startswith(f"# {name}") and not missing, (
        f"the model card of {name!r} must start with '# {name}' and have the sections "
        f"{', '.join(CARD_SECTIONS)}; it lacks {', '.join(missing) or 'the title'}")
    try:
        resumed_run_config(registry, model.directory, {"train.steps": loaded.step + 1})
    except ZooError:
        pass
    else:
        raise AssertionError(f"{name!r} could be resumed in place: a pretrained model is "
                             "read-only")
