"""A checkpoint saves what a GPU's cuDNN holds: RNN weights packed into one flat buffer."""

from __future__ import annotations

import torch
from safetensors.torch import load_model

from zoo.models.loading import save_checkpoint


def pack_like_cudnn(rnn: torch.nn.RNNBase) -> None:
    """Make ``rnn``'s weights views into one flat buffer, as flatten_parameters does on CUDA."""
    weights = list(rnn._flat_weights)
    flat = torch.cat([w.detach().reshape(-1) for w in weights])
    offset = 0
    for name, weight in zip(rnn._flat_weights_names, weights, strict=True):
        view = flat[offset:offset + weight.numel()].view_as(weight)
        offset += weight.numel()
        setattr(rnn, name, torch.nn.Parameter(view))


def test_a_checkpoint_of_packed_rnn_weights_saves_and_loads_back(registry, tmp_path):
    component = registry.get("architecture", "gru-tied")
    model = component.load_factory()(component.default_config(), 65)
    pack_like_cudnn(model.gru)
    save_checkpoint(tmp_path, model, step=3)  # safetensors' save_model refused these
    fresh = component.load_factory()(component.default_config(), 65)
    load_model(fresh, str(tmp_path / "model.safetensors"), strict=True)
    for (name, saved), loaded in zip(model.state_dict().items(), fresh.state_dict().values(),
                                     strict=True):
        assert torch.equal(saved, loaded), name
