"""What a plugin author imports: zoo's public surface for plugins, in one place.

Built-in plugins and ``zoo_exports`` import from here (and ``hookimpl`` and
``Register`` from :mod:`zoo`) exactly as a third party's do, so the core's
modules can move without breaking anyone. A test holds them to it. Importing
this module never imports torch. Contract checks for a plugin's tests are in
:mod:`zoo.testing`.
"""

from zoo.analysis.scoring import Scores, length_groups, score_documents, surprisal
from zoo.config.run import choose_component
from zoo.config.threads import cpu_threads
from zoo.config.values import InvalidValue, require
from zoo.data.documents import ROWS, end_of_text_id, lines_of, paragraphs_of
from zoo.errors import PluginError, ZooError
from zoo.files.atomic import atomic_directory, naming_write_failures
from zoo.files.reading import (
    MAX_REASON,
    damaged,
    load_tokenizer_files,
    read_json,
    read_text_file,
    reading,
    require_keys,
    short_reason,
)
from zoo.registry.contracts import SPLITS, Architecture, Dataset, Tokenizer
from zoo.registry.factory import build_tokenizer
from zoo.registry.hookspecs import Register, RegisterPretrained, hookimpl
from zoo.registry.host import load_registry
from zoo.runs.pretrained import register_index
from zoo.sampling.loop import (
    SamplingSettings,
    continue_choices,
    continue_sequences,
    prompt_ids,
    stopping_for,
)
from zoo.version import PLUGIN_API_VERSION, __version__

__all__ = [
    # registering components (also in zoo itself)
    "PLUGIN_API_VERSION", "Register", "__version__", "hookimpl", "load_registry",
    # registering trained models (a pretrained package's models.json)
    "RegisterPretrained", "register_index",
    # the contracts a component meets
    "SPLITS", "Architecture", "Dataset", "Tokenizer",
    # config dataclasses: checking a field in __post_init__
    "InvalidValue", "require",
    # errors: one line naming the problem and the way out
    "PluginError", "ZooError",
    # documents and end of text
    "ROWS", "end_of_text_id", "lines_of", "paragraphs_of",
    # reading a user's files back, and writing a directory whole or not at all
    "MAX_REASON", "atomic_directory", "damaged", "load_tokenizer_files", "naming_write_failures",
    "read_json", "read_text_file", "reading", "require_keys", "short_reason",
    # rebuilding a recorded component (exporters that sample)
    "build_tokenizer", "choose_component",
    # the stepwise sampling loop, shared with exporters' own runtimes; the threads asked for
    "cpu_threads", "SamplingSettings", "continue_choices", "continue_sequences", "prompt_ids",
    "stopping_for",
    # scoring text, shared with exporters' own runtimes: the logits -> surprisal and rank
    "Scores", "length_groups", "score_documents", "surprisal",
]
