"""zoo: a plugin-based zoo of small language models.

The core host: plugin contracts, the registry that discovers plugins through
entry points, configuration, training, sampling and run directories. It ships
no concrete model; the built-ins live in ``zoo_plugins`` and reach the core
through the same hooks a third party uses.

Plugin authors need only ``hookimpl`` (to mark hook implementations) and
``Register`` (the type of the ``register`` callable the registration hooks
receive); the package ships ``py.typed``, so type checkers read its annotations.

The Python API (:mod:`zoo.api`) is reachable from here: ``zoo.train``,
``zoo.load``, ``zoo.load_export``, ``zoo.compare`` and ``zoo.components``,
loaded on first use.

Importing this package is cheap: it never imports torch.
"""

from typing import TYPE_CHECKING, Any

import pluggy

from zoo.hookspecs import Register

__version__ = "0.1.0"

#: Version of the plugin API: the hook signatures and the component contracts.
#: A plugin module may set ``ZOO_PLUGIN_API = N``; one that needs a newer API
#: than this is refused and listed as broken.
PLUGIN_API_VERSION = 2  # 2: zoo_register_loggers

#: Decorator for hook implementations: ``@hookimpl def zoo_register_...``.
hookimpl = pluggy.HookimplMarker("zoo")

#: The Python API, imported from :mod:`zoo.api` on first use so that ``import zoo`` stays cheap.
API = ("Comparison", "Export", "Run", "compare", "components", "load", "load_export", "train")

if TYPE_CHECKING:
    from zoo.api import Comparison, Export, Run, compare, components, load, load_export, train


def __getattr__(name: str) -> Any:
    if name in API:
        from zoo import api

        return getattr(api, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


__all__ = [
    "API", "PLUGIN_API_VERSION", "Comparison", "Export", "Register", "Run", "__version__",
    "compare", "components", "hookimpl", "load", "load_export", "train",
]
