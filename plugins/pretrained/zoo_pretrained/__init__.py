"""zoo-lm-pretrained: trained zoo models, each a read-only run directory under ``models/``.

``zoo list --kind pretrained`` lists them; every command that takes a run takes their
names (``zoo sample gru-tied/tinyshakespeare``). ``models.json`` records each file's sha256.
"""
