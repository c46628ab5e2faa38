"""Configuration: checked values, :class:`TrainConfig` and the run's sections (below the
registry), and :mod:`zoo.config.run`, which assembles a run's config over the registry."""


def __getattr__(name: str) -> object:  # zoo 0.1's config module, for one release
    from zoo.deprecated import moved_name

    return moved_name(__name__, name)
