"""The SFT loop: AdamW, linear warm-up then linear decay, gradient clipping, loss on answer tokens only.

Written out in plain torch so each step can be read: batches of similar length (shuffled by the seed),
the decoder's hidden states, the LM head only on positions whose next token is an answer token, and
cross-entropy summed over those tokens and divided by the answer tokens of the whole optimizer step,
so every answer token weighs the same however the step is split into micro-batches.
"""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from instruct_assets.models.llm_backend import padded_batch
from instruct_assets.training.sft_examples import IGNORED, SftExample

STEP_LOG_SCHEMA = {
    "step": pl.Int32,
    "epoch": pl.Int32,
    "loss": pl.Float64,
    "learning_rate": pl.Float64,
    "trained_tokens": pl.Int64,
    "seconds": pl.Float64,
}


@dataclass(frozen=True)
class TrainingSettings:
    learning_rate: float = 5e-5
    epochs: int = 1
    batch_size: int = 8  # examples per optimizer step
    micro_batch_size: int = 8  # examples per forward pass (batch_size / micro_batch_size accumulate)
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 0
    precision: str = "fp32"  # fp32, or bf16-mixed (fp32 weights, bf16 autocast)
    device: str = "cpu"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainingLog:
    steps: pl.DataFrame  # one row per optimizer step (STEP_LOG_SCHEMA)
    seconds: float
    trained_tokens: int
    total_tokens: int

    @property
    def tokens_per_second(self) -> float:
        return self.total_tokens / self.seconds if self.seconds else float("nan")


def step_batches(examples: Sequence[SftExample], settings: TrainingSettings, epoch: int) -> list[np.ndarray]:
    """The epoch's optimizer steps as arrays of example indices: shuffled by (seed, epoch), then sorted by
    length inside windows of 16 steps so a step pads little, then the steps shuffled again."""
    rng = np.random.default_rng([settings.seed, epoch])
    order = rng.permutation(len(examples))
    window = settings.batch_size * 16
    lengths = np.array([len(e.input_ids) for e in examples])
    steps = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        steps += [chunk[i : i + settings.batch_size] for i in range(0, len(chunk), settings.batch_size)]
    return [steps[i] for i in rng.permutation(len(steps))]


def learning_rate_at(step: int, total_steps: int, settings: TrainingSettings) -> float:
    """Linear warm-up over the first warmup_ratio of the steps, then linear decay to zero."""
    warmup = math.ceil(settings.warmup_ratio * total_steps)
    if step < warmup:
        return settings.learning_rate * (step + 1) / warmup
    return settings.learning_rate * max(0.0, (total_steps - step) / max(1, total_steps - warmup))


def answer_token_loss(model, input_ids, attention_mask, labels):
    """Summed cross-entropy of the answer tokens (labels != IGNORED) given everything before them."""
    import torch

    hidden = model.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    targets = labels[:, 1:]
    where = targets != IGNORED
    logits = model.get_output_embeddings()(hidden[:, :-1][where])
    return torch.nn.functional.cross_entropy(logits.float(), targets[where], reduction="sum")


def train_sft(
    model,
    examples: Sequence[SftExample],
    settings: TrainingSettings,
    pad_id: int,
    on_step: Callable[[dict], None] | None = None,
) -> TrainingLog:
    """Fine-tune `model` in place on `examples`; `on_step` gets each step's log row as it is done."""
    import torch

    if not examples:
        raise ValueError("no training examples: every sample was skipped or the training set is empty")
    torch.manual_seed(settings.seed)
    model.to(settings.device).train()
    # fused: one kernel per parameter group instead of a loop of small ops (CPU and CUDA; transformers'
    # Trainer default), slightly faster and lighter (benchmarks/training.py).
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=settings.learning_rate,
        weight_decay=settings.weight_decay,
        fused=True,
    )
    total_steps = settings.epochs * math.ceil(len(examples) / settings.batch_size)
    autocast = torch.autocast(
        device_type=torch.device(settings.device).type,
        dtype=torch.bfloat16,
        enabled=settings.precision == "bf16-mixed",
    )
    ids = [e.input_ids for e in examples]
    labels = [e.labels for e in examples]
    rows, step, started = [], 0, time.perf_counter()
    for epoch in range(settings.epochs):
        for batch in step_batches(examples, settings, epoch):
            step_started = time.perf_counter()
            rate = learning_rate_at(step, total_steps, settings)
            for group in optimizer.param_groups:
                group["lr"] = rate
            step_tokens = sum(int((labels[i][1:] != IGNORED).sum()) for i in batch)
            loss_sum = 0.0
            for start in range(0, len(batch), settings.micro_batch_size):
                micro = batch[start : start + settings.micro_batch_size]
                input_ids, mask = (
                    torch.from_numpy(a).to(settings.device) for a in padded_batch(ids, micro, pad_id)
                )
                micro_labels = torch.from_numpy(padded_batch(labels, micro, IGNORED)[0]).to(settings.device)
                with autocast:
                    loss = answer_token_loss(model, input_ids, mask, micro_labels)
                (loss / step_tokens).backward()
                loss_sum += loss.item()
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            row = dict(
                step=step + 1,
                epoch=epoch,
                loss=loss_sum / step_tokens,
                learning_rate=rate,
                trained_tokens=step_tokens,
                seconds=time.perf_counter() - step_started,
            )
            rows.append(row)
            if on_step:
                on_step(row)
            step += 1
    model.eval()
    return TrainingLog(
        steps=pl.DataFrame(rows, schema=STEP_LOG_SCHEMA),
        seconds=time.perf_counter() - started,
        trained_tokens=sum(r["trained_tokens"] for r in rows),
        total_tokens=settings.epochs * sum(len(i) for i in ids),
    )
