"""Sampling: choosing tokens from logits and the stepwise loop (numpy, shared with the ONNX
sampler), the PyTorch sampler, chat, and streaming text piece by piece."""
