"""Run and export directories: their files, written atomically and read back with one-line
errors, and serving an export over HTTP. No torch: the weights are :mod:`zoo.models`'."""


def __getattr__(name: str) -> object:  # zoo 0.1's runs module, for one release
    from zoo.deprecated import moved_name

    return moved_name(__name__, name)
