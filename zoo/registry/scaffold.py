"""``zoo plugin new``: write a pip-installable plugin package from ``zoo/registry/templates``.

A generated package has a pyproject with the entry point, a hook module
registering a working component of the chosen kind, its config dataclass in
a module of its own, the component, a README
and a test that runs zoo's public contract checks on it. It installs with pip
and its test passes unchanged (zoo's own suite checks both).

A pretrained package (``--kind pretrained --from RUN``) instead holds a
published run: the command fills it in (:func:`new_plugin`'s ``fill``) with
the model directory and its ``models.json`` before the package takes its name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from zoo.errors import ZooError
from zoo.files import atomic
from zoo.files.paths import plan_new_directory
from zoo.registry.host import PRETRAINED_NAME
from zoo.version import __version__

#: Kinds whose package holds a working component of its own making.
COMPONENT_KINDS = ("architecture", "tokenizer", "dataset")
#: What ``zoo plugin new --kind`` takes: those, and a trained model published from a run.
KINDS = (*COMPONENT_KINDS, "pretrained")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

#: What each kind's component module is called and which config section it fills.
MODULES = {"architecture": ("model", "model"), "tokenizer": ("tokenizer", "tokenizer"),
           "dataset": ("dataset", "dataset"), "pretrained": ("models", "model")}
USAGE = {
    "architecture": "Train and sample it like a built-in:\n\n```bash\n"
                    "zoo train ${name} --set model.hidden=256\nzoo sample runs/NAME\n"
                    "zoo export runs/NAME --onnx\n```",
    "tokenizer": "Train any model with it:\n\n```bash\nzoo train gru-tied --tokenizer ${name}\n```",
    "dataset": "Train any model on it:\n\n```bash\n"
               "zoo train gru-tied --dataset ${name} --set dataset.path=corpus.txt\n```",
    "pretrained": "",
}


@dataclass(frozen=True)
class PluginNames:
    """Every name a generated package uses, derived from the component name."""

    name: str  # the component's name, e.g. "tiny-gru", or a pretrained "gru-tied/mytext"
    kind: str

    @property
    def slug(self) -> str:
        """The name without its ``/``: the entry point's name, and the root of the others."""
        return self.name.replace("/", "-").replace(".", "-").replace("_", "-")

    @property
    def distribution(self) -> str:
        return f"zoo-{self.slug}"

    @property
    def package(self) -> str:
        return f"zoo_{self.slug.replace('-', '_')}"

    @property
    def class_name(self) -> str:
        return "".join(part.capitalize() for part in self.slug.split("-"))

    def substitutions(self) -> dict[str, str]:
        module, section = MODULES[self.kind]
        values = {
            "name": self.name, "kind": self.kind, "distribution": self.distribution,
            "package": self.package, "class_name": self.class_name, "module": module,
            "section": section, "zoo_version": __version__, "entry_point": self.slug,
            "architecture": self.name.split("/")[0],
        }
        values["usage"] = Template(USAGE[self.kind]).substitute(values)
        return values


def check_name(name: str, kind: str) -> PluginNames:
    """The names of a new plugin, or a clear error for a name zoo cannot use."""
    if kind not in KINDS:
        raise ZooError(f"no plugin kind {kind!r}; choose one of: {', '.join(KINDS)}")
    if kind == "pretrained":
        if not PRETRAINED_NAME.match(name):
            raise ZooError(f"pretrained name {name!r} is not usable: use ARCHITECTURE/DATASET "
                           "with an optional -VARIANT, in lowercase (e.g. gru-tied/mytext)")
        return PluginNames(name, kind)
    if not NAME_PATTERN.fullmatch(name):
        raise ZooError(f"plugin name {name!r} is not usable: use lowercase letters, digits and "
                       "single hyphens, starting with a letter (e.g. tiny-gru)")
    return PluginNames(name, kind)


def _template(*parts: str) -> str:
    template = resources.files("zoo.registry").joinpath("templates", "plugin", *parts)
    return template.read_text("utf-8")


def planned_files(names: PluginNames) -> dict[str, str]:
    """Relative path -> text of every file the new package gets."""
    values = names.substitutions()
    module = values["module"]

    def render(*parts: str) -> str:
        return Template(_template(*parts)).substitute(values)

    if names.kind == "pretrained":  # the model itself is filled in by the command
        return {
            "pyproject.toml": render("common", "pyproject.toml.tmpl"),
            "README.md": render("pretrained", "README.md.tmpl"),
            f"{names.package}/__init__.py": render("common", "__init__.py.tmpl"),
            f"{names.package}/plugin.py": render("pretrained", "plugin.py.tmpl"),
            f"tests/test_{names.package}.py": render("pretrained", "test.py.tmpl"),
        }
    files = {
        "pyproject.toml": render("common", "pyproject.toml.tmpl"),
        "README.md": render("common", "README.md.tmpl"),
        f"{names.package}/__init__.py": render("common", "__init__.py.tmpl"),
        f"{names.package}/plugin.py": render(names.kind, "plugin.py.tmpl"),
        # the config apart from the component, so that registering imports nothing heavy
        f"{names.package}/config.py": render(names.kind, "config.py.tmpl"),
        f"{names.package}/{module}.py": render(names.kind, "component.py.tmpl"),
        f"tests/test_{names.package}.py": render("common", "test.py.tmpl"),
    }
    if names.kind == "dataset":
        files[f"{names.package}/sample.txt"] = _template("dataset", "sample.txt")
    return files


def new_plugin(name: str, kind: str, out: Path | None = None,
               fill: Callable[[Path, PluginNames], None] | None = None) -> tuple[Path, PluginNames]:
    """Write the package into ``out`` (default ``./zoo-NAME``); never touch an existing one.

    ``fill(directory, names)`` adds files to the package before it takes its name (a
    pretrained package's model); if it fails, nothing is left behind.
    """
    names = check_name(name, kind)
    target = Path(out) if out is not None else Path(names.distribution)
    plan_new_directory(target, "plugin directory")
    with atomic.atomic_directory(target) as temp:
        for relative, text in planned_files(names).items():
            path = temp / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
        if fill is not None:
            fill(temp, names)
    return target, names
