"""zoo: a plugin-based zoo of small language models.

The core host: plugin contracts, the registry that discovers plugins through
entry points, configuration, training, sampling and run directories. It ships
no concrete model; the built-ins live in ``zoo_plugins`` and reach the core
through the same hooks a third party uses.

Plugin authors need ``hookimpl`` (to mark hook implementations), ``Register``
(the type of the ``register`` callable the registration hooks receive) and
``RegisterPretrained`` (that of ``zoo_register_pretrained``) from here, and
everything else from :mod:`zoo.plugin`; the package ships ``py.typed``, so
type checkers read its annotations.

The Python API (:mod:`zoo.api`) is reachable from here: ``zoo.train``,
``zoo.load``, ``zoo.load_export``, ``zoo.compare``, ``zoo.components`` and
``zoo.pretrained``,
loaded on first use.

Importing this package is cheap: it never imports torch.
"""

from typing import TYPE_CHECKING, Any

from zoo.deprecated import install_old_module_paths
from zoo.registry.hookspecs import Register, RegisterPretrained, hookimpl
from zoo.version import PLUGIN_API_VERSION, __version__

#: The Python API, imported from :mod:`zoo.api` on first use so that ``import zoo`` stays cheap.
API = ("Comparison", "Export", "Run", "compare", "components", "load", "load_export",
       "pretrained", "train")

if TYPE_CHECKING:
    from zoo.api import (
        Comparison,
        Export,
        Run,
        compare,
        components,
        load,
        load_export,
        pretrained,
        train,
    )

install_old_module_paths()


def __getattr__(name: str) -> Any:
    if name in API:
        from zoo import api

        return getattr(api, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


__all__ = [
    "API", "PLUGIN_API_VERSION", "Comparison", "Export", "Register", "RegisterPretrained", "Run",
    "__version__", "compare", "components", "hookimpl", "load", "load_export", "pretrained",
    "train",
]
