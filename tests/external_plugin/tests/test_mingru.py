"""The plugin's own tests: zoo's public contract checks, as every built-in passes them."""

from zoo_mingru.model import MinGRU
from zoo_mingru.plugin import MinGRUConfig

from zoo.registry import load_registry
from zoo.testing import check_architecture, check_pretrained


def test_contract():
    check_architecture(MinGRU, MinGRUConfig(hidden=16, layers=2))


def test_registered_through_the_entry_point():
    component = load_registry(strict=True).get("architecture", "mingru")
    assert component.provider.distribution == "zoo-mingru"


def test_pretrained_contract():
    check_pretrained("mingru/tinyshakespeare-tiny")
