import dagster as dg
import polars as pl

from instruct_assets.defs.training.asset_versions import latest_version
from instruct_assets.defs.training.checkpoint_training import (
    checkpoint_asset,
    checkpoint_dir,
    checkpoint_row,
    train_checkpoint,
)
from instruct_assets.defs.training.config import StageOneConfig, TrainingConfig
from instruct_assets.defs.training.training_sets import (
    CHECKPOINT_F,
    FOUNDATIONAL_SET,
    SELECTIONS,
    STAGE2_TRAINING_SET,
    selection_methods,
    training_samples,
)
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.llm import LLMResource
from instruct_assets.resources.mlflow_tracking import MLflowResource

TRAINING_INPUTS = [FOUNDATIONAL_SET, *SELECTIONS.values()]
STAGE_TWO_INPUTS = {
    "checkpoint_f": dg.AssetIn(CHECKPOINT_F),
    "stage2_training_set": dg.AssetIn(STAGE2_TRAINING_SET),
}


@checkpoint_asset("checkpoint_f", deps=TRAINING_INPUTS)
def checkpoint_f(
    context: dg.AssetExecutionContext,
    config: StageOneConfig,
    lake: LakeResource,
    llm: LLMResource,
    mlflow: MLflowResource,
) -> dg.Output[pl.DataFrame]:
    """Stage 1 of the recipe: the llm resource's model fine-tuned on the foundational set F.

    Grain: one row naming the checkpoint folder (lake/checkpoints/checkpoint_f/_all/<run id>) with its
    training summary; the folder holds model, tokenizer, training_config.json, lineage.json, the step
    log and the trained sample ids.

    Source: foundational_set, or the selection of F named by `training_set`; the llm resource's model
    as the base.

    Guarantees: loss on answer tokens only, in the model's chat template; every sample of the training
    set has a decision (trained, or skipped as prompt_exceeds_max_length); the data version is derived
    from the training set's data version, the base weights, the config and the code.
    """
    key = dg.AssetKey(config.training_set)
    return train_checkpoint(
        context, config, lake, llm, mlflow, training_samples(lake, key),
        [latest_version(context.instance, key)], llm.model, None, method="stage1",
    )  # fmt: skip


@checkpoint_asset("checkpoint_stage2", ins=STAGE_TWO_INPUTS)
def checkpoint_stage2(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    lake: LakeResource,
    llm: LLMResource,
    mlflow: MLflowResource,
    checkpoint_f: pl.LazyFrame,
    stage2_training_set: pl.LazyFrame,
) -> dg.Output[pl.DataFrame]:
    """Stage 2 of the recipe: checkpoint_f fine-tuned further on the stage-2 set (two-stage SFT).

    Grain: one row naming the checkpoint folder (as checkpoint_f).

    Source: checkpoint_f (the base) and stage2_training_set (a selection of F without loss-difference
    outliers, until the conversational set G exists).

    Guarantees: as checkpoint_f; lineage.json names checkpoint_f's version as the base.
    """
    samples = training_samples(lake, STAGE2_TRAINING_SET)
    return train_checkpoint(
        context, config, lake, llm, mlflow, samples, [latest_version(context.instance, STAGE2_TRAINING_SET)],
        str(checkpoint_dir(checkpoint_f)), latest_version(context.instance, CHECKPOINT_F), method="two_stage",
    )  # fmt: skip


@checkpoint_asset("checkpoint_mixed", ins=STAGE_TWO_INPUTS)
def checkpoint_mixed(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    lake: LakeResource,
    llm: LLMResource,
    mlflow: MLflowResource,
    checkpoint_f: pl.LazyFrame,
    stage2_training_set: pl.LazyFrame,
) -> dg.Output[pl.DataFrame]:
    """The one-stage baseline of the two-stage recipe: the base model fine-tuned once on stage 1's set and
    the stage-2 set shuffled together, the same samples the two stages see, in one stage.

    Grain: one row naming the checkpoint folder (as checkpoint_f).

    Source: the training set checkpoint_f was trained on (read from its row, so both use the same version)
    and stage2_training_set; the llm resource's model as the base (checkpoint_f is not trained further).

    Guarantees: as checkpoint_f; a sample in both sets is trained on twice, as it is across two stages.
    """
    stage1 = dg.AssetKey(checkpoint_row(checkpoint_f)["training_sets"][0])
    samples = pl.concat([training_samples(lake, stage1), training_samples(lake, STAGE2_TRAINING_SET)])
    versions = [
        latest_version(context.instance, stage1),
        latest_version(context.instance, STAGE2_TRAINING_SET),
    ]
    return train_checkpoint(
        context, config, lake, llm, mlflow, samples, versions, llm.model, None, method="mixed"
    )


@checkpoint_asset("selection_checkpoint", partitions_def=selection_methods, deps=list(SELECTIONS.values()))
def selection_checkpoint(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    lake: LakeResource,
    llm: LLMResource,
    mlflow: MLflowResource,
) -> dg.Output[pl.DataFrame]:
    """One checkpoint per selection method, all trained alike on equal budgets: the comparison that says
    whether a selection beats random.

    Grain: one row naming the checkpoint folder (lake/checkpoints/selection_checkpoint/<method>/<run id>);
    partition = method (random, rds_plus, iterit, coverage).

    Source: <method>_selection (every selection shares one budget, SelectionConfig); the llm resource's
    model as the base.

    Guarantees: as checkpoint_f; every partition trains from the same base with the same config (run
    config applies to all partitions of a run), so methods differ only in the samples chosen.
    """
    method = context.partition_key
    key = SELECTIONS[method]
    return train_checkpoint(
        context, config, lake, llm, mlflow, training_samples(lake, key),
        [latest_version(context.instance, key)], llm.model, None, method=method,
    )  # fmt: skip
