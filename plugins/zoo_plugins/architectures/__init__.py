"""Built-in architectures. Configs live in ``configs`` (no torch); models in their own modules."""
