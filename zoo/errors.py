"""Errors the user can fix: the CLI prints them as one line and exits with code 2."""


class ZooError(Exception):
    """A mistake in the user's input, named together with the way out."""


class PluginError(ZooError):
    """A plugin failed to import, raised in a hook, or registered something malformed."""
