"""Entry point ``builtin-architectures``: registers the built-in architectures."""

from __future__ import annotations

from zoo import Register, hookimpl
from zoo_plugins.architectures.configs import (
    BigramConfig,
    GRUTiedConfig,
    MLPConfig,
    RecurrentConfig,
    TransformerConfig,
    WaveNetConfig,
)

_MODULE = "zoo_plugins.architectures"


@hookimpl
def zoo_register_architectures(register: Register) -> None:
    register(
        "bigram",
        summary="next-token logits straight from a V x V embedding table",
        config=BigramConfig,
        factory=f"{_MODULE}.bigram:Bigram",
        train_defaults={"lr": 3e-2, "min_lr": 3e-3, "weight_decay": 0.0},
    )
    for cell, summary in [
        ("rnn", "char-rnn: embedding -> stacked tanh RNN -> linear head"),
        ("lstm", "char-rnn: embedding -> stacked LSTM -> linear head"),
        ("gru", "char-rnn: embedding -> stacked GRU -> linear head"),
    ]:
        register(
            cell,
            summary=summary,
            config=RecurrentConfig,
            factory=f"{_MODULE}.recurrent:{cell}",
        )
    register(
        "gru-tied",
        summary="stacked GRU with tied embedding/output weights (projection if sizes differ)",
        config=GRUTiedConfig,
        factory=f"{_MODULE}.gru_tied:GRUTied",
        # The recipe search's winner at the default run's cost (docs/benchmarks.md):
        # the same 4,096 characters a step, in longer windows, with a hotter schedule.
        train_defaults={"batch_size": 32, "block_size": 128, "lr": 5e-3, "min_lr": 1e-4,
                        "weight_decay": 0.0, "beta2": 0.95},
    )
    register(
        "transformer",
        summary="mini GPT: pre-norm causal attention blocks, RoPE, sliding-window KV-cache step",
        config=TransformerConfig,
        factory=f"{_MODULE}.transformer:Transformer",
        train_defaults={"lr": 2e-3, "min_lr": 2e-4, "weight_decay": 0.1, "block_size": 128,
                        "batch_size": 32},
    )
    register(
        "mlp",
        summary="Bengio et al. 2003 MLP (makemore): the last n tokens' embeddings -> tanh layer",
        config=MLPConfig,
        factory=f"{_MODULE}.mlp:MLP",
    )
    register(
        "wavenet",
        summary="WaveNet-style gated causal convolutions, kernel 2, dilations 1, 2, 4, ...",
        config=WaveNetConfig,
        factory=f"{_MODULE}.wavenet:WaveNet",
    )
