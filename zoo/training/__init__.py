"""Training: the one loop and each of its jobs in a module of its own (data, steps, evaluation,
optimizer and schedule, checkpoints, progress, loggers, resume, fine-tuning, distributed,
interruption)."""


def __getattr__(name: str) -> object:  # zoo 0.1's training module, for one release
    from zoo.deprecated import moved_name

    return moved_name(__name__, name)
