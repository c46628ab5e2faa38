"""Entry point ``pretrained``: registers every model that ``models.json`` lists."""

from pathlib import Path

from zoo import RegisterPretrained, hookimpl
from zoo.plugin import register_index

ZOO_PLUGIN_API = 3  # zoo_register_pretrained


@hookimpl
def zoo_register_pretrained(register: RegisterPretrained) -> None:
    register_index(register, Path(__file__).parent / "models.json")
