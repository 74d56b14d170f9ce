"""What every checkpoint asset does: encode its training set, fine-tune a base model, save the checkpoint
folder with its lineage, record the samples it trained on, and log the run to MLflow."""

from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import polars as pl

from instruct_assets.defs.curation.source_stage import write_decisions
from instruct_assets.defs.model_bound import model_bound_asset
from instruct_assets.defs.training.asset_versions import AssetVersion, derived_version
from instruct_assets.defs.training.config import TrainingConfig
from instruct_assets.markdown import markdown_table
from instruct_assets.models.model_files import folder_fingerprint
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.plots import line_figure
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.llm import LLMResource
from instruct_assets.resources.mlflow_tracking import MLflowResource
from instruct_assets.resources.run_tags import asset_label, lineage_tags
from instruct_assets.training.checkpoint_files import prune_versions, save_checkpoint
from instruct_assets.training.sft_examples import SKIPPED_TOO_LONG, encode_for_sft
from instruct_assets.training.sft_loop import train_sft
from instruct_assets.versioning import code_version_of

TRAINING_CODE_VERSION = code_version_of(
    PROJECT_ROOT / "instruct_assets" / "training",
    PROJECT_ROOT / "instruct_assets" / "defs" / "training" / "checkpoint_training.py",
    PROJECT_ROOT / "instruct_assets" / "models" / "chat_encoding.py",
)


def checkpoint_asset(name: str, **kwargs):
    """The decorator checkpoint assets share: model-bound, one row naming the checkpoint folder."""
    return model_bound_asset(name, "training", TRAINING_CODE_VERSION, {"pytorch", "mlflow"}, **kwargs)


def train_checkpoint(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    lake: LakeResource,
    llm: LLMResource,
    mlflow: MLflowResource,
    samples: pl.DataFrame,
    training_sets: Sequence[AssetVersion],
    base_model: str,
    base_version: AssetVersion | None,
    method: str,
) -> dg.Output[pl.DataFrame]:
    """Fine-tune `base_model` (a folder, or the llm resource's model reference) on `samples` (sample_id,
    source, source_ref, messages), save the checkpoint folder, record which samples it trained, log the
    MLflow run, and return the checkpoint asset's one-row Output."""
    partition = context.partition_key if context.has_partition_key else None
    asset = context.asset_key.to_user_string()
    label = asset_label(asset, partition)
    folder = llm.folder(base_model)
    model, tokenizer, trained, log = fine_tune(context, config, folder, samples, label)
    base_identity = base_version.data_version if base_version else folder_fingerprint(folder)
    data_version = derived_version(
        [s.as_dict() for s in training_sets], base_identity, config.model_dump(), TRAINING_CODE_VERSION
    )
    lineage = {
        "checkpoint": {"asset_key": asset, "partition": partition, "data_version": data_version},
        "training_sets": [s.as_dict() for s in training_sets],
        "base_model": base_model,
        "base": base_version.as_dict() if base_version else {"fingerprint": base_identity},
        "dagster_run_id": context.run_id,
        "code_version": TRAINING_CODE_VERSION,
        "method": method,
    }
    versions = lake.root / "checkpoints" / asset / (partition or "_all")
    checkpoint = save_checkpoint(
        versions / context.run_id, model, tokenizer,
        {**config.model_dump(), "base_model": base_model}, lineage, log.steps, trained.filter("trained"),
    )  # fmt: skip
    prune_versions(versions, config.keep_versions)
    # A sample listed twice (the mixed stage) is one row of the decisions, as in every stage.
    verdicts = trained_verdicts(trained.unique("sample_id", keep="first", maintain_order=True), label)
    rows = samples.unique("sample_id", keep="first", maintain_order=True).lazy()
    write_decisions(context, lake, asset, partition, rows, verdicts, TRAINING_CODE_VERSION)

    trained_count = int(trained["trained"].sum())
    losses = log.steps["loss"]
    metrics = {
        "train/first_loss": losses[0],
        "train/last_loss": losses[-1],
        "train/mean_loss_last_quarter": losses.tail(max(1, len(losses) // 4)).mean(),
        "train/samples": trained_count,
        "train/skipped": samples.height - trained_count,
        "train/steps": log.steps.height,
        "train/trained_tokens": log.trained_tokens,
        "train/tokens_per_second": log.tokens_per_second,
        "train/seconds": log.seconds,
    }
    curve = line_figure(f"{label}: training loss", "step", {"loss": (log.steps["step"], losses)})
    run = mlflow.record_run(
        run_name=f"train {label}",
        tags=lineage_tags(
            "training", asset, partition, data_version, TRAINING_CODE_VERSION, context.run_id,
            checkpoint=label, training_set=",".join(s.label for s in training_sets), method=method,
            training_samples=str(trained_count),
        ),
        params={**config.model_dump(), "base_model": base_model, "checkpoint_dir": str(checkpoint)},
        metrics=metrics,
        step_metrics={"train/loss": losses, "train/learning_rate": log.steps["learning_rate"]},
        figures={"train_loss": curve},
    )  # fmt: skip
    row = {
        "checkpoint_dir": str(checkpoint),
        "base_model": base_model,
        "training_sets": [s.label for s in training_sets],
        "method": method,
        "samples": trained_count,
        "skipped": samples.height - trained_count,
        "steps": log.steps.height,
        "first_loss": metrics["train/first_loss"],
        "last_loss": metrics["train/last_loss"],
        "data_version": data_version,
        "mlflow_run_id": run.run_id,
    }
    every = max(1, log.steps.height // 12)
    return dg.Output(
        pl.DataFrame([row]),
        data_version=dg.DataVersion(data_version),
        metadata={
            "dagster/row_count": 1,
            "checkpoint_dir": dg.MetadataValue.path(str(checkpoint)),
            "samples": trained_count,
            "skipped_too_long": samples.height - trained_count,
            "steps": log.steps.height,
            "tokens_per_second": round(log.tokens_per_second, 1),
            "first_loss": round(metrics["train/first_loss"], 4),
            "last_loss": round(metrics["train/last_loss"], 4),
            "loss_curve": dg.MetadataValue.md(
                markdown_table(log.steps.gather_every(every).select("step", "loss", "learning_rate"))
            ),
            **run.metadata(),
        },
    )


def fine_tune(context, config: TrainingConfig, folder: str, samples: pl.DataFrame, label: str):
    """(model, tokenizer, one row per sample saying whether and on how many tokens it trained, the
    training log): the model at `folder` fine-tuned on the conversations of `samples`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from instruct_assets.models.chat_encoding import ChatEncoder

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    encoder = ChatEncoder(tokenizer, config.max_length, config.max_length - 1)
    encoded = [encode_for_sft(encoder, m, config.max_length) for m in samples["messages"].to_list()]
    examples = [e for e in encoded if e is not None]
    trained = samples.select("sample_id").with_columns(
        trained=pl.Series([e is not None for e in encoded]),
        tokens=pl.Series([len(e.input_ids) if e else 0 for e in encoded], dtype=pl.Int32),
        trained_tokens=pl.Series([e.trained_tokens if e else 0 for e in encoded], dtype=pl.Int32),
        truncated=pl.Series([bool(e and e.truncated) for e in encoded]),
    )
    context.log.info(
        f"{label}: {len(examples)} of {samples.height} samples fit in {config.max_length} tokens"
    )

    def log_step(row: dict) -> None:
        if row["step"] == 1 or row["step"] % 10 == 0:
            context.log.info(
                f"{label} step {row['step']}: loss {row['loss']:.4f}, lr {row['learning_rate']:.2e}"
            )

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    log = train_sft(model, examples, config.settings(), pad_id, on_step=log_step)
    return model, tokenizer, trained, log


def trained_verdicts(trained: pl.DataFrame, label: str) -> pl.DataFrame:
    return trained.select(
        "sample_id",
        kept=pl.col("trained"),
        reason=pl.when(~pl.col("trained")).then(pl.lit(SKIPPED_TOO_LONG)),
        detail=pl.when(pl.col("trained"))
        .then(pl.format("trained {} ({} answer tokens of {})", pl.lit(label), "trained_tokens", "tokens"))
        .otherwise(pl.format("not trained by {}: no answer token within max_length", pl.lit(label))),
        score=pl.col("trained_tokens").cast(pl.Float64),
        ref_id=pl.lit(None, pl.String),
    )


def checkpoint_row(checkpoint: pl.LazyFrame | pl.DataFrame) -> dict:
    """The one row of a checkpoint asset: checkpoint_dir, training_sets, method, data_version, ..."""
    return checkpoint.lazy().collect().row(0, named=True)


def checkpoint_dir(checkpoint: pl.LazyFrame | pl.DataFrame) -> Path:
    return Path(checkpoint_row(checkpoint)["checkpoint_dir"])


def materialized_checkpoint(lake: LakeResource, label: str) -> Path:
    """The folder of the latest materialization of a checkpoint asset named like `checkpoint_f` or
    `selection_checkpoint[iterit]` (what IterIT's later epochs re-score with)."""
    name, _, partition = label.removesuffix("]").partition("[")
    path = lake.asset_path(dg.AssetKey(name), partition or None)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint {label!r} is not materialized; materialize it first")
    return checkpoint_dir(pl.scan_parquet(path))
