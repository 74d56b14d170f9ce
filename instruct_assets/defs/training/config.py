from dataclasses import fields
from typing import Literal

import dagster as dg
from pydantic import Field

from instruct_assets.training.sft_loop import TrainingSettings


class TrainingConfig(dg.Config):
    """How a checkpoint is trained. The defaults are the CPU demo (SmolLM2-135M, a few hundred samples in
    minutes); resources/run_config/training_gpu.yaml holds a GPU configuration."""

    learning_rate: float = Field(TrainingSettings.learning_rate, description="peak learning rate of AdamW")
    epochs: int = Field(TrainingSettings.epochs, description="passes over the training set")
    batch_size: int = Field(TrainingSettings.batch_size, description="samples per optimizer step")
    micro_batch_size: int = Field(
        TrainingSettings.micro_batch_size,
        description="samples per forward pass; smaller accumulates gradients",
    )
    max_length: int = Field(192, description="tokens per sample; longer conversations are cut at the end")
    seed: int = Field(
        TrainingSettings.seed, description="order of the samples (and any randomness in training)"
    )
    warmup_ratio: float = Field(
        TrainingSettings.warmup_ratio, description="share of the steps with a linearly rising learning rate"
    )
    weight_decay: float = Field(TrainingSettings.weight_decay, description="AdamW weight decay")
    max_grad_norm: float = Field(
        TrainingSettings.max_grad_norm, description="gradients are clipped to this norm"
    )
    precision: Literal["fp32", "bf16-mixed"] = Field(
        "bf16-mixed", description="bf16-mixed: fp32 weights, bf16 matmuls (2x faster on a CPU with bf16)"
    )
    device: str = Field(TrainingSettings.device, description="cpu, cuda, cuda:1, ...")
    keep_versions: int = Field(2, description="checkpoint folders kept per asset (and partition)")

    def settings(self) -> TrainingSettings:
        return TrainingSettings(**{f.name: getattr(self, f.name) for f in fields(TrainingSettings)})


STAGE1_SETS = (
    "foundational_set",
    "random_selection",
    "rds_plus_selection",
    "iterit_selection",
    "coverage_selection",
)


class StageOneConfig(TrainingConfig):
    training_set: Literal[STAGE1_SETS] = Field(  # type: ignore[valid-type]
        "foundational_set", description="F (the recipe), or a selection of F"
    )


class StageTwoSetConfig(dg.Config):
    source: Literal[STAGE1_SETS[1:]] = Field(  # type: ignore[valid-type]
        "iterit_selection",
        description="the second-stage set until the conversational set G exists: a selection of F",
    )
    outlier_quantile: float = Field(
        0.05,
        description="q: samples whose loss difference is below the q or above the 1-q quantile are dropped",
    )
    chunk_rows: int = Field(64, description="samples per scoring chunk (each chunk is cached)")
