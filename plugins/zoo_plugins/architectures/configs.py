"""Config dataclasses of the built-in architectures; importing them never imports torch.

Each states its constraints in ``__post_init__`` (see :func:`zoo.plugin.require`).
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo.plugin import InvalidValue, require


def _require_sizes(config: object, *keys: str) -> None:
    """Widths and layer counts are at least 1; dropout is a probability below 1."""
    for key in keys:
        require(config, key, at_least=1)
    require(config, "dropout", at_least=0, below=1)


@dataclass
class BigramConfig:
    """The bigram model has no options: its whole model is one V x V table."""


@dataclass
class RecurrentConfig:
    """char-rnn: embedding -> stacked recurrent layers of one cell type -> linear head."""

    embed: int = 64  # embedding width
    hidden: int = 256  # hidden size of each recurrent layer
    layers: int = 2  # stacked recurrent layers
    dropout: float = 0.1  # dropout on embeddings, between layers and before the head

    def __post_init__(self) -> None:
        _require_sizes(self, "embed", "hidden", "layers")


@dataclass
class GRUTiedConfig:
    """Stacked GRU whose output layer reuses the embedding matrix."""

    embed: int = 256  # embedding width; also the width the output layer reads (tied weights)
    hidden: int = 256  # GRU hidden size; a projection maps it to `embed` when they differ
    layers: int = 2  # stacked GRU layers
    dropout: float = 0.0  # dropout on embeddings, between GRU layers and before the output

    def __post_init__(self) -> None:
        _require_sizes(self, "embed", "hidden", "layers")


@dataclass
class TransformerConfig:
    """A mini GPT: pre-norm blocks of causal self-attention and MLP, tied embeddings."""

    embed: int = 128  # model width
    layers: int = 4  # transformer blocks
    heads: int = 4  # attention heads; embed must divide by it
    block_size: int = 128  # attention window: each token sees at most this many tokens
    dropout: float = 0.0  # dropout on embeddings, attention and residual branches
    bias: bool = False  # biases in linear layers and layer norms

    def __post_init__(self) -> None:
        _require_sizes(self, "embed", "layers", "heads", "block_size")
        if self.embed % self.heads:
            raise InvalidValue("embed", self.embed, f"a multiple of model.heads ({self.heads})")


@dataclass
class MLPConfig:
    """Bengio et al. 2003 (makemore's MLP): the last `context` tokens' embeddings, concatenated,
    through one tanh hidden layer.

    makemore's lecture model reads 3 characters; 8 here covers a short English word and the
    space before it, which is what a character model needs most. 64-wide embeddings are
    makemore's `n_embd`; a 256-wide hidden layer gives about 150k parameters with a character
    vocabulary, which trains in minutes on a CPU.
    """

    context: int = 8  # tokens each prediction reads: the current one and the context - 1 before it
    embed: int = 64  # embedding width of each token; the hidden layer reads context x embed
    hidden: int = 256  # width of the tanh hidden layer
    dropout: float = 0.0  # dropout on the concatenated embeddings and on the hidden layer

    def __post_init__(self) -> None:
        _require_sizes(self, "context", "embed", "hidden")


@dataclass
class WaveNetConfig:
    """WaveNet-style stack of causal dilated convolutions (kernel 2, dilations 1, 2, 4, ...).

    6 layers reach back 2**6 = 64 tokens, the training loop's default `block_size`, so a
    default training window can use the whole receptive field. 128 channels give about 500k
    parameters with a character vocabulary, near the defaults of `gru` (660k) and
    `transformer` (800k), so their losses compare.
    """

    channels: int = 128  # width of the residual stream: the embedding and every convolution
    layers: int = 6  # dilated layers; layer N has dilation 2**N, so the model sees 2**layers tokens
    dropout: float = 0.0  # dropout on each layer's residual branch

    def __post_init__(self) -> None:
        _require_sizes(self, "channels", "layers")
        # the last layer's state keeps 2**(layers - 1) steps per row; 16 layers already see 65,536
        require(self, "layers", at_most=16)
