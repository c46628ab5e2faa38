"""The registry of the installed distribution, loaded once per test session, on first use.

``tests/conftest.py`` serves it as the ``registry`` fixture and parametrizes the contract
tests over its components; test modules that need its names while pytest collects them
(``zoo COMMAND --help`` for every command) call :func:`installed_registry` from a
``pytest_generate_tests`` hook, never at import.
"""

from __future__ import annotations

import functools

from zoo.registry import Registry, load_registry


@functools.cache
def installed_registry() -> Registry:
    """Every installed plugin, strictly: a broken one fails the tests instead of hiding."""
    return load_registry(disabled=set(), strict=True)
