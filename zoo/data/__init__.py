"""Data: documents and end of text, token streams, batches, the on-disk token cache and corpus
statistics. numpy only; no torch (the training step makes tensors)."""


def __getattr__(name: str) -> object:  # zoo 0.1's data module, for one release
    from zoo.deprecated import moved_name

    return moved_name(__name__, name)
