"""minGRU for zoo, as a third-party plugin distribution."""

__version__ = "0.3.1"
