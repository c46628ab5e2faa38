"""The registry: hookspecs, component contracts, the plugin host that discovers plugins through
entry points, the component factory and the plugin scaffold. No torch.

The plugin host's public names are re-exported here (``from zoo.registry import
load_registry``).
"""

from zoo.registry.components import KINDS, BrokenPlugin, Component, Conflict, Provider
from zoo.registry.host import Registry, default_registry, load_registry

__all__ = ["KINDS", "BrokenPlugin", "Component", "Conflict", "Provider", "Registry",
           "default_registry", "load_registry"]


def __getattr__(name: str) -> object:  # the rest of zoo 0.1's registry module, for one release
    from zoo.deprecated import moved_name

    return moved_name(__name__, name)
