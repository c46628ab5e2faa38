"""Files: atomic writes and locked directories, paths of new runs, and reading files back with
one-line errors. Above :mod:`zoo.errors` only; no torch."""
