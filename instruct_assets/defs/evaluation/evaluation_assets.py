import dagster as dg
import polars as pl

from instruct_assets.defs.evaluation.checkpoint_evaluation import (
    EVALUATION_INPUTS,
    evaluate_model,
    evaluation_asset,
)
from instruct_assets.defs.evaluation.config import EvaluationConfig
from instruct_assets.defs.training.asset_versions import AssetVersion
from instruct_assets.defs.training.checkpoint_training import checkpoint_row
from instruct_assets.defs.training.training_sets import selection_methods
from instruct_assets.resources.llm import LLMResource
from instruct_assets.resources.mlflow_tracking import MLflowResource

GUARANTEES = """
Grain: one row per item evaluated: kind (dev_loss, choice, exact_match, judge), benchmark, domain,
item_id, value, prediction, reference.

Source: {source}; benchmark_targets (eval split) and instruction_dev_set.

Guarantees: one MLflow run per materialization, tagged with this asset's key, partition, data version
and code version and the checkpoint's key and data version (metrics and plots in the run, per-item
results as its artifact, the run linked in the metadata); the same items for every checkpoint, so
evaluations compare.
"""


@evaluation_asset("eval_base", ins=EVALUATION_INPUTS)
def eval_base(
    context: dg.AssetExecutionContext,
    config: EvaluationConfig,
    llm: LLMResource,
    mlflow: MLflowResource,
    benchmark_targets: pl.LazyFrame,
    instruction_dev_set: pl.LazyFrame,
) -> dg.Output[pl.DataFrame]:
    """The base model before any fine-tuning (the llm resource's model): what every checkpoint improves on.

    Grain: one row per item evaluated: kind (dev_loss, choice, exact_match, judge), benchmark, domain,
    item_id, value, prediction, reference.

    Source: the llm resource's model; benchmark_targets (eval split) and instruction_dev_set.

    Guarantees: as every evaluation asset: one MLflow run per materialization with this asset's lineage
    tags (the model's weights fingerprint in place of a checkpoint version); the same items as every
    checkpoint's evaluation.
    """
    return evaluate_model(
        context, config, llm, mlflow, benchmark_targets, instruction_dev_set, llm.model, None, None
    )


def checkpoint_evaluation(name: str, checkpoint: str, what: str, partitions_def=None):
    """The evaluation asset of one checkpoint asset (partitioned alike, one evaluation per partition)."""
    key = dg.AssetKey(checkpoint)

    @evaluation_asset(
        name,
        ins={**EVALUATION_INPUTS, "checkpoint": dg.AssetIn(key)},
        partitions_def=partitions_def,
        description=f"{what}\n{GUARANTEES.format(source=checkpoint)}",
    )
    def evaluation(
        context: dg.AssetExecutionContext,
        config: EvaluationConfig,
        llm: LLMResource,
        mlflow: MLflowResource,
        benchmark_targets: pl.LazyFrame,
        instruction_dev_set: pl.LazyFrame,
        checkpoint: pl.LazyFrame,
    ) -> dg.Output[pl.DataFrame]:
        row = checkpoint_row(checkpoint)
        partition = context.partition_key if context.has_partition_key else None
        version = AssetVersion(key.to_user_string(), partition, row["data_version"])
        return evaluate_model(
            context,
            config,
            llm,
            mlflow,
            benchmark_targets,
            instruction_dev_set,
            row["checkpoint_dir"],
            version,
            row,
        )

    return evaluation


eval_f = checkpoint_evaluation("eval_f", "checkpoint_f", "Stage 1 alone: the model after SFT on F.")
eval_stage2 = checkpoint_evaluation(
    "eval_stage2", "checkpoint_stage2", "Two-stage SFT: F, then the stage-2 set (the recipe)."
)
eval_mixed = checkpoint_evaluation(
    "eval_mixed", "checkpoint_mixed", "One mixed stage: the same samples as the two stages, in one stage."
)
selection_eval = checkpoint_evaluation(
    "selection_eval",
    "selection_checkpoint",
    "One evaluation per selection method (partition): the checkpoints trained on equal budgets.",
    partitions_def=selection_methods,
)
