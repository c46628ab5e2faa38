"""ONNX export of a model's one-token step, and the torch-free onnxruntime sampler.

Exports rely only on the architecture contract (``forward(idx, state)`` and
``init_state``), never on a particular model.
"""
