import dagster as dg
import polars as pl

from instruct_assets.defs.curation.source_stage import write_decisions
from instruct_assets.defs.model_bound import model_bound_asset
from instruct_assets.defs.scoring.assets import llm_cache, score_with_llm
from instruct_assets.defs.scoring.chunked_scoring import score_missing
from instruct_assets.defs.training.checkpoint_training import checkpoint_dir
from instruct_assets.defs.training.config import StageTwoSetConfig
from instruct_assets.defs.training.training_sets import CHECKPOINT_F, SELECTIONS, training_samples
from instruct_assets.markdown import markdown_histogram, markdown_table
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.llm import LLMResource
from instruct_assets.training.loss_difference import loss_difference_verdicts
from instruct_assets.versioning import code_version_of

LOSS_DIFFERENCE_STAGE = "loss_difference"
STAGE2_SET_CODE_VERSION = code_version_of(
    PROJECT_ROOT / "instruct_assets" / "training" / "loss_difference.py",
    PROJECT_ROOT / "instruct_assets" / "defs" / "training" / "stage2_set_assets.py",
)


@model_bound_asset(
    "stage2_training_set",
    "training",
    STAGE2_SET_CODE_VERSION,
    {"pytorch", "parquet"},
    ins={"checkpoint_f": dg.AssetIn(CHECKPOINT_F)},
    deps=list(SELECTIONS.values()),
    check_specs=[
        dg.AssetCheckSpec("rows_accounted", asset="stage2_training_set", blocking=True,
                          description="every sample of the source set is kept or dropped with a reason"),
    ],
)  # fmt: skip
def stage2_training_set(
    context: dg.AssetExecutionContext,
    config: StageTwoSetConfig,
    lake: LakeResource,
    llm: LLMResource,
    checkpoint_f: pl.LazyFrame,
):
    """The second-stage training set: the source set without loss-difference outliers (paper 000).

    Grain: one row per kept sample: sample_id, source, dsir_domain, nll_base, nll_tuned, loss_difference.

    Source: the selection named by `source` (the conversational set G once it exists); per-sample answer
    NLL under the base model (the llm resource's, cached with scored_pool's scores) and under
    checkpoint_f (cached by the checkpoint's weights).

    Guarantees: loss_difference = nll_base - nll_tuned; samples outside its [q, 1-q] quantiles are dropped
    as loss_difference_outlier, samples without a finite loss as loss_not_finite; every source sample
    has a decision in stage `loss_difference`.
    """
    samples = training_samples(lake, dg.AssetKey(config.source))
    tuned_model = str(checkpoint_dir(checkpoint_f))
    nll = {}
    for name, model in (("base", llm.model), ("tuned", tuned_model)):
        cache = llm_cache(lake, llm, model)
        score_missing(context, cache, samples, score_with_llm(llm, model), config.chunk_rows, f"{name} loss")
        nll[name] = samples.select("sample_id").join(
            cache.scan().select("sample_id", "nll_conditional").collect(), on="sample_id", how="left",
            maintain_order="left",
        )["nll_conditional"].to_numpy()  # fmt: skip
    verdicts = loss_difference_verdicts(nll["base"], nll["tuned"], config.outlier_quantile)
    scored = samples.select("sample_id", "source", "dsir_domain").with_columns(
        nll_base=pl.Series(nll["base"]),
        nll_tuned=pl.Series(nll["tuned"]),
        loss_difference=pl.Series(verdicts.difference),
        reason=pl.Series(verdicts.reason, dtype=pl.String),
    )
    bounds = f"[{verdicts.low:.4f}, {verdicts.high:.4f}]"
    decisions = scored.select(
        "sample_id",
        kept=pl.col("reason").is_null(),
        reason="reason",
        detail=pl.format(
            "loss {} -> {} under checkpoint_f (difference {}; kept range {})",
            pl.col("nll_base").round(4), pl.col("nll_tuned").round(4), pl.col("loss_difference").round(4),
            pl.lit(bounds),
        ),
        score="loss_difference",
        ref_id=pl.lit(None, pl.String),
    )  # fmt: skip
    write_decisions(
        context, lake, LOSS_DIFFERENCE_STAGE, None, samples.lazy(), decisions, STAGE2_SET_CODE_VERSION
    )
    kept = scored.filter(pl.col("reason").is_null()).drop("reason")
    dropped = scored.filter(pl.col("reason").is_not_null()).group_by("reason").len().sort("reason")
    yield dg.Output(
        kept,
        metadata={
            "dagster/row_count": kept.height,
            "source": config.source,
            "source_rows": samples.height,
            "kept_range": bounds,
            "dropped_by_reason": dg.MetadataValue.md(markdown_table(dropped)),
            "loss_difference": dg.MetadataValue.md(markdown_histogram(scored["loss_difference"].drop_nans())),
            "checkpoint_f": dg.MetadataValue.path(tuned_model),
        },
    )
    yield dg.AssetCheckResult(
        check_name="rows_accounted",
        passed=kept.height + int(dropped["len"].sum()) == samples.height == decisions.height,
        metadata={"source_rows": samples.height, "kept": kept.height, "dropped": int(dropped["len"].sum())},
    )
