"""Reading files back: a damaged file is one ZooError naming it and the way to recover.

Every loader of a run or an export reads through these, so that a truncated
checkpoint, a manifest that is not JSON or a tokenizer file from something
else ends as one line ("... is damaged (why); restore it from a copy or
re-train") instead of the parser's traceback. Neither torch nor safetensors
is imported here: :func:`reading` guards whatever parser runs inside it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

#: The longest parser message quoted in an error, in characters.
MAX_REASON = 200


def short_reason(error: BaseException) -> str:
    """A parser's message on one line, cut to :data:`MAX_REASON` characters."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def damaged(path: str | Path, what: str, recovery: str, reason: str) -> ZooError:
    """The one error for a file that exists but cannot be used."""
    return ZooError(f"{what} {str(path)!r} is damaged ({reason}); {recovery}")


@contextlib.contextmanager
def reading(path: str | Path, what: str, recovery: str) -> Iterator[None]:
    """Turn any failure of the parsing inside the block into :func:`damaged` for ``path``.

    ``what`` names the file for the user ("the checkpoint of run 'runs/x'"),
    ``recovery`` says what to do ("restore it from a copy or re-train"). A
    ZooError raised inside passes through unchanged; a missing file is named
    as missing.
    """
    try:
        yield
    except ZooError:
        raise
    except FileNotFoundError:
        raise ZooError(f"{what} {str(path)!r} is missing; {recovery}") from None
    except Exception as error:  # any parser's failure on this file means the file is damaged
        raise damaged(path, what, recovery, short_reason(error)) from None


def read_json(path: str | Path, what: str, recovery: str, *, kind: type = dict) -> Any:
    """The JSON value in ``path``, which must be of type ``kind`` (an object by default)."""
    with reading(path, what, recovery):
        data = json.loads(Path(path).read_text("utf-8"))
    if not isinstance(data, kind):
        wanted = {"dict": "an object", "list": "a list"}.get(kind.__name__, kind.__name__)
        raise damaged(path, what, recovery, f"a JSON {type(data).__name__} where "
                      f"{wanted} belongs")
    return data


def load_tokenizer_files(tokenizer: Any, directory: Path, what: str, recovery: str,
                         vocab_size: int | None = None) -> None:
    """``tokenizer.load(directory)``, with a missing or damaged directory as one ZooError.

    With ``vocab_size`` (what the model was built for), a tokenizer of another
    size is refused too: its ids would not fit the model.
    """
    if not Path(directory).is_dir():
        raise ZooError(f"{what} {str(directory)!r} is missing; {recovery}")
    with reading(directory, what, recovery):
        tokenizer.load(Path(directory))
        if vocab_size is not None and tokenizer.vocab_size != vocab_size:
            raise ValueError(f"it has {tokenizer.vocab_size} tokens, the model {vocab_size}")


def require_keys(data: dict[str, Any], types: dict[str, type | tuple[type, ...]],
                 path: str | Path, what: str, recovery: str) -> None:
    """Check that ``data`` has each key of ``types`` with a value of that type."""
    for key, expected in types.items():
        value = data.get(key)
        numeric = expected in (int, float, (int, float))
        if not isinstance(value, expected) or (numeric and isinstance(value, bool)):
            found = "missing" if key not in data else f"{type(value).__name__} {value!r}"
            raise damaged(path, what, recovery, f"'{key}' is {found}"[:MAX_REASON])


def read_text_file(path: Path) -> str:
    """A user's UTF-8 text file, or a ZooError naming it: missing, a directory, or not UTF-8
    (with the offset of its first bad byte and the way to convert it)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ZooError(f"text file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ZooError(f"{str(path)!r} is a directory; give the text files inside it") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ZooError(
            f"{str(path)!r} is not UTF-8 (bad byte at offset {error.start}); "
            "convert it, e.g. iconv -t utf-8"
        ) from None
