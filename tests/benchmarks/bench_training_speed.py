"""Benchmark: tokens/s of the zoo training loop against minimal hand-written PyTorch loops.

Two comparisons. In each, both sides train on the same batches (the zoo
sampler's seeded random windows of Tiny Shakespeare) in one process,
alternating A, B, A, B so that drift in the machine's speed hits both. Each
figure is the median over windows of `log_interval` steps; the first window
of every round (warm-up) and evaluation are left out.

- gru-tied, its defaults (2 x 256, 64 x 64 characters a batch), against a
  hand-written loop over the same model. Target: >= 0.95x.
- transformer in nanoGPT's CPU "baby GPT" shape (4 layers x 128, 4 heads,
  block 64, batch 12, no dropout) against a hand-written nanoGPT of that
  shape: pre-norm blocks, scaled_dot_product_attention with is_causal, GELU
  MLP, a learned position table, tied output, AdamW with nanoGPT's decay
  groups. Target: >= 1.0x.

Usage: python tests/benchmarks/bench_training_speed.py [--steps 150]
    [--transformer-steps 300] [--rounds 2] [--only gru-tied|transformer]
(about 3 minutes on 2 quiet cores; more rounds of fewer steps alternate more finely)
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from common import TINY_SHAKESPEARE, save
from torch import nn
from torch.nn import functional as F

from zoo.config.run import RunConfig, build_run_config
from zoo.data.batches import RandomWindows
from zoo.data.streams import TokenStream
from zoo.data.token_cache import cached_splits
from zoo.registry.factory import build_dataset, build_model, build_tokenizer
from zoo.registry.host import Registry, load_registry
from zoo.runs.run_directory import read_metrics
from zoo.training.loop import train_run

#: nanoGPT's CPU "baby GPT" (its README's shakespeare_char run on a MacBook), no dropout.
BABY_GPT = {"embed": 128, "layers": 4, "heads": 4, "block_size": 64, "batch_size": 12}

#: zoo's run settings for each comparison (train.* as nanoGPT's config where it has one).
SETTINGS = {
    "gru-tied": [],
    "transformer": [
        f"model.embed={BABY_GPT['embed']}", f"model.layers={BABY_GPT['layers']}",
        f"model.heads={BABY_GPT['heads']}", f"model.block_size={BABY_GPT['block_size']}",
        "model.dropout=0.0", "model.bias=false",
        f"train.block_size={BABY_GPT['block_size']}", f"train.batch_size={BABY_GPT['batch_size']}",
        "train.lr=1e-3", "train.min_lr=1e-4", "train.weight_decay=0.1", "train.beta2=0.99",
    ],
}


class CausalSelfAttention(nn.Module):
    """nanoGPT's attention: one projection to q, k, v, then SDPA with is_causal."""

    def __init__(self, embed: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(embed, 3 * embed, bias=False)
        self.c_proj = nn.Linear(embed, embed, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, E = x.shape
        q, k, v = self.c_attn(x).split(E, dim=2)  # each (B, T, E)
        q, k, v = (t.view(B, T, self.heads, E // self.heads).transpose(1, 2)
                   for t in (q, k, v))  # each (B, heads, T, D)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, heads, T, D)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, E))


class NanoBlock(nn.Module):
    """nanoGPT's pre-norm block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, embed: int, heads: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(embed, bias=False)
        self.attn = CausalSelfAttention(embed, heads)
        self.ln_2 = nn.LayerNorm(embed, bias=False)
        self.mlp = nn.Sequential(nn.Linear(embed, 4 * embed, bias=False), nn.GELU(),
                                 nn.Linear(4 * embed, embed, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class NanoGPT(nn.Module):
    """nanoGPT's model, bias-free and without dropout: token and learned position
    embeddings, pre-norm blocks, a final norm and an output tied to the token table."""

    def __init__(self, vocab_size: int, embed: int, layers: int, heads: int,
                 block_size: int) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab_size, embed)
        self.wpe = nn.Embedding(block_size, embed)
        self.h = nn.ModuleList(NanoBlock(embed, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(embed, bias=False)
        for name, parameter in self.named_parameters():
            if parameter.dim() >= 2:  # nanoGPT's init, residual projections scaled by depth
                scaled = name.endswith("c_proj.weight") or name.endswith("mlp.2.weight")
                std = 0.02 / math.sqrt(2 * layers) if scaled else 0.02
                nn.init.normal_(parameter, std=std)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))  # (B, T, E)
        for block in self.h:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)  # (B, T, V)


def nanogpt_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """nanoGPT's configure_optimizers on a CPU: decay the matrices only, betas (0.9, 0.99)."""
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


def hand_written_loop(model: nn.Module, optimizer: torch.optim.Optimizer,
                      sampler: RandomWindows, steps: int, window: int) -> tuple[list[float], float]:
    """The loop a user would write: forward, cross-entropy, backward, clip, step.

    Returns tokens/s of each window of ``window`` steps and the last window's mean loss.
    """
    speeds, losses = [], []
    started = time.perf_counter()
    for step in range(1, steps + 1):
        x, y, _ = sampler.next_batch()
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)  # (B, T) each
        output = model(inputs)
        logits = output[0] if isinstance(output, tuple) else output  # zoo models: (logits, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.detach())
        if step % window == 0:
            last_loss = torch.stack(losses).mean().item()
            losses.clear()
            now = time.perf_counter()
            speeds.append(window * x.size / (now - started))
            started = now
    return speeds, last_loss


def training_stream(registry: Registry, config: RunConfig) -> tuple[int, TokenStream]:
    """The vocabulary size and train-split tokens that a zoo run on ``config`` trains on."""
    dataset = build_dataset(registry, config.dataset)
    tokenizer = build_tokenizer(registry, config.tokenizer)
    tokenizer.train(dataset.texts("train"))
    return tokenizer.vocab_size, cached_splits(dataset, tokenizer)["train"]


def run_hand_written(registry: Registry, name: str, config: RunConfig, vocab_size: int,
                     stream: TokenStream) -> tuple[list[float], float]:
    """One round of the hand-written loop: tokens/s of each window after the first, last loss."""
    train = config.train
    torch.manual_seed(train.seed)
    if name == "transformer":
        model: nn.Module = NanoGPT(vocab_size, BABY_GPT["embed"], BABY_GPT["layers"],
                                   BABY_GPT["heads"], BABY_GPT["block_size"])
        optimizer = nanogpt_optimizer(model, train.lr, train.weight_decay)
    else:
        model = build_model(registry, config.model, vocab_size)
        optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, betas=(0.9, 0.99))
    sampler = RandomWindows(stream, train.block_size, train.batch_size, train.seed)
    speeds, loss = hand_written_loop(model, optimizer, sampler, train.steps, train.log_interval)
    return speeds[1:], loss  # the first window warms up


def run_zoo(registry: Registry, config: RunConfig, run_dir: Path) -> tuple[list[float], float]:
    """One round of `zoo.training`: tokens/s of each logged window after the first, last loss."""
    train_run(registry, config, run_dir, progress=False, log=lambda _: None)
    logged = [m for m in read_metrics(run_dir) if m["split"] == "train"]
    return [m["tokens_per_s"] for m in logged][1:], logged[-1]["loss"]


def compare(registry: Registry, name: str, steps: int, rounds: int, data: Path,
            scratch: Path) -> dict[str, Any]:
    """Alternate the hand-written loop and `zoo.training` on architecture ``name``."""
    config = build_run_config(
        registry, {"model": {"name": name}, "dataset": {"name": "text"}},
        [f"dataset.path={data}", f"train.steps={steps}", "train.device=cpu",
         f"train.eval_interval={steps}", "train.eval_batches=1", "train.log_interval=10",
         "train.warmup_steps=0", *SETTINGS[name]],
    )
    train = config.train
    vocab_size, stream = training_stream(registry, config)
    hand_speeds: list[float] = []
    zoo_speeds: list[float] = []
    round_ratios: list[float] = []  # each round's median zoo / median hand-written
    hand_loss = zoo_loss = math.nan
    for round_index in range(rounds):
        # ABBA: odd rounds run zoo first, so that going first or second favours neither side
        order = ("hand", "zoo") if round_index % 2 == 0 else ("zoo", "hand")
        for side in order:
            if side == "hand":
                hand_round, hand_loss = run_hand_written(registry, name, config, vocab_size,
                                                         stream)
            else:
                zoo_round, zoo_loss = run_zoo(registry, config, scratch / f"{name}-{round_index}")
        hand_speeds += hand_round
        zoo_speeds += zoo_round
        round_ratios.append(round(statistics.median(zoo_round) / statistics.median(hand_round), 3))
    hand = statistics.median(hand_speeds)
    zoo = statistics.median(zoo_speeds)
    return {"hand_written_tokens_per_s": round(hand), "zoo_tokens_per_s": round(zoo),
            "ratio": round(zoo / hand, 3), "round_ratios": round_ratios,
            "steps_per_round": steps, "rounds": rounds,
            "windows": [len(hand_speeds), len(zoo_speeds)],
            "batch": [train.batch_size, train.block_size],
            "last_train_loss": {"hand_written": round(hand_loss, 4), "zoo": round(zoo_loss, 4)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="gru-tied steps per round")
    parser.add_argument("--transformer-steps", type=int, default=300,
                        help="transformer steps per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=sorted(SETTINGS), action="append",
                        help="run only this comparison (repeatable)")
    parser.add_argument("--data", type=Path, default=TINY_SHAKESPEARE)
    options = parser.parse_args()

    registry = load_registry()
    steps = {"gru-tied": options.steps, "transformer": options.transformer_steps}
    results: dict[str, Any] = {"torch_threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as scratch:
        for name in options.only or sorted(SETTINGS):
            results[name] = compare(registry, name, steps[name], options.rounds, options.data,
                                    Path(scratch))
            ratio = results[name]["ratio"]
            print(f"{name}: zoo {results[name]['zoo_tokens_per_s']:,} tokens/s, hand-written "
                  f"{results[name]['hand_written_tokens_per_s']:,} tokens/s, ratio {ratio:.3f}")
    print(results)
    print(f"saved {save('training_speed', results)}")


if __name__ == "__main__":
    main()
