"""How the one training loop runs: :class:`TrainConfig`, the ``train`` section of every run."""

from __future__ import annotations

from dataclasses import dataclass, field

from zoo.config.values import InvalidValue, require
from zoo.errors import ZooError

#: ``train.precision``: ``auto`` autocasts to bfloat16 where the hardware computes it natively
#: (CUDA GPUs that support it, CPUs with AVX512-BF16 or AMX), ``bfloat16`` wherever torch can,
#: ``float32`` never. Evaluation always computes in float32.
PRECISIONS = ("auto", "bfloat16", "float32")

#: A run's steps when it is given neither ``steps`` nor a time budget (``max_seconds``).
DEFAULT_STEPS = 1200


@dataclass
class TrainConfig:
    """How the one training loop runs, whatever the architecture."""

    steps: int | None = None  # optimizer steps; unset: until max_seconds ends the run, or 1200
    batch_size: int = 64  # sequences per step
    block_size: int = 64  # tokens per training window (the BPTT length for RNNs)
    lr: float = 3e-3  # peak learning rate, reached after warmup
    min_lr: float = 3e-4  # learning rate at the end of the cosine decay
    warmup_steps: int | None = None  # linear warmup from 0 to lr; None: min(100, steps // 10)
    weight_decay: float = 0.01  # AdamW decoupled weight decay on matrices (not biases/norms)
    beta1: float = 0.9  # AdamW first-moment decay
    beta2: float = 0.99  # AdamW second-moment decay
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    eval_interval: int = 200  # steps between evaluations (and checkpoints)
    eval_batches: int = 16  # validation batches per evaluation (a small split: all of it)
    log_interval: int = 10  # steps between training-loss lines in metrics.jsonl
    seed: int = 1337  # seeds torch and the batch sampler
    device: str = "auto"  # auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps
    threads: int = 0  # CPU threads for torch; 0: its default, one per physical core
    precision: str = "auto"  # training steps' math: auto, bfloat16 (autocast) or float32
    stateful: bool = False  # contiguous streams with hidden state carried across batches (TBPTT)
    compile: bool = False  # wrap the model in torch.compile for training
    max_seconds: float = 0.0  # the run's time budget in seconds; without steps, its length; 0: off
    init_from: str | None = None  # a run whose weights and tokenizer this one starts from
    sample_every: int = 0  # steps between samples made while training (in metrics.jsonl); 0: off
    sample_prompt: str = ""  # the text those samples continue; "" starts a new document
    sample_tokens: int = 100  # the most tokens in each of those samples
    loggers: list[str] = field(default_factory=list)  # where records go besides metrics.jsonl

    def __post_init__(self) -> None:
        for key in ("steps", "batch_size", "block_size", "eval_interval", "eval_batches",
                    "log_interval"):
            require(self, key, at_least=1)
        require(self, "lr", above=0)
        require(self, "sample_tokens", at_least=1)
        for key in ("min_lr", "warmup_steps", "weight_decay", "grad_clip", "max_seconds",
                    "sample_every", "threads"):
            require(self, key, at_least=0)
        if self.precision not in PRECISIONS:
            raise InvalidValue("precision", self.precision, "one of " + ", ".join(PRECISIONS))
        require(self, "beta1", at_least=0, below=1)
        require(self, "beta2", at_least=0, below=1)
        # numpy's generators take seeds up to 2**64 - 1; torch adds the rank to it
        require(self, "seed", at_least=0, below=2**63)

    @property
    def step_limit(self) -> int | None:
        """The step that ends the run: ``steps`` when given; with none, no step limit when a
        time budget (``max_seconds``) ends the run, else :data:`DEFAULT_STEPS`.

        ``steps`` stays None in the config (and in a run's ``config.json``) when it was not
        given, so that a budgeted run's length is its budget; a run recorded before it
        could be None holds the number it trained to.
        """
        if self.steps is not None:
            return self.steps
        return None if self.max_seconds > 0 else DEFAULT_STEPS

    def length(self) -> str:
        """The run's length in words: ``1200``, ``a 120 s budget`` or ``5000 or a 120 s
        budget`` (``zoo show``'s "step N of ...")."""
        limit = self.step_limit
        budget = f"a {self.max_seconds:g} s budget" if self.max_seconds > 0 else ""
        return " or ".join(part for part in (str(limit) if limit else "", budget) if part)


def check_schedule(train: TrainConfig) -> None:
    """Refuse a cosine decay that ends above its peak (``min_lr > lr``), for a new run.

    It is checked where a run is planned, not by :class:`TrainConfig` itself, so that
    runs made before the check still load and sample.
    """
    if train.min_lr > train.lr:
        raise ZooError(f"train.min_lr={train.min_lr:g} is above train.lr={train.lr:g}, so the "
                       "learning rate would rise where it should decay; lower it as well "
                       f"(--set train.min_lr={train.lr / 10:g}, a tenth of lr)")
