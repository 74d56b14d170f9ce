import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from instruct_assets.defs.scoring.assets import llm_cache, score_with_llm
from instruct_assets.defs.scoring.chunked_scoring import score_missing
from instruct_assets.defs.selection.config import SelectionConfig
from instruct_assets.defs.selection.publishing import FOUNDATIONAL_SET, publish_selection, selection_asset
from instruct_assets.defs.training.checkpoint_training import materialized_checkpoint
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.llm import LLMResource
from instruct_assets.selection.iterit import iterit_candidates, iterit_greedy, iterit_picks
from instruct_assets.selection.tfidf import tfidf_features
from instruct_assets.versioning import code_version_of

SELECTION = PROJECT_ROOT / "instruct_assets" / "selection"
ITERIT_CODE_VERSION = code_version_of(
    SELECTION / "iterit.py",
    SELECTION / "tfidf.py",
    SELECTION / "greedy.py",
    PROJECT_ROOT / "instruct_assets" / "defs" / "selection" / "iterit_assets.py",
    PROJECT_ROOT / "instruct_assets" / "defs" / "selection" / "publishing.py",
)


class IterItConfig(SelectionConfig):
    candidate_factor: float = Field(3.0, description="a: epoch 0 keeps the top a x budget samples by IFD")
    decay: float = Field(0.1, description="b: n-gram weight decay after each pick (0 for single-task data)")
    epoch: int = Field(0, description="0: IFD from scored_pool; >= 1: IFD recomputed on the candidates")
    rescoring_model: str | None = Field(
        None,
        description="epoch >= 1: the checkpoint being trained (folder); default the llm resource's model",
    )
    rescoring_checkpoint: str | None = Field(
        None,
        description="epoch >= 1: a checkpoint asset instead of a folder, e.g. selection_checkpoint[iterit] "
        "(its latest materialization); the IterIT loop: select, train, re-select with the trained model",
    )
    chunk_rows: int = Field(128, description="samples per re-scoring chunk")


@selection_asset(
    "iterit_selection",
    ITERIT_CODE_VERSION,
    {"scipy", "parquet"},
    model_bound=True,
    foundational_set=FOUNDATIONAL_SET,
)
def iterit_selection(
    context: dg.AssetExecutionContext,
    config: IterItConfig,
    lake: LakeResource,
    llm: LLMResource,
    scored_pool: pl.LazyFrame,
    foundational_set: pl.LazyFrame,
):
    """IterIT (paper 002): complex samples first (IFD), diverse responses among them (decayed TF-IDF).

    Grain: one row per selected sample for one training epoch: sample_id, source, dsir_domain, rank
    (greedy order), score (IFD x diversity at pick time), ifd, diversity, epoch, detail.

    Source: scored_pool (IFD) and foundational_set (responses, and conversations to re-score); at
    epoch >= 1, the `rescoring_model` through the llm resource (cached like scored_pool).

    Guarantees: candidates are the top candidate_factor x budget by IFD after dropping IFD >= 1
    (`unaligned_ifd`; others `not_candidate`); at epoch >= 1 their IFD is recomputed with the model being
    trained and the unaligned dropped again; then `budget` picks maximising IFD x sum of decayed TF-IDF
    weights of response 1-3-grams, by lazy greedy, which picks exactly what the paper's loop picks.
    """
    scored = scored_pool.select("sample_id", "source", "dsir_domain", "ifd").collect()
    budget = config.budget_for(scored.height)
    candidates = scored[iterit_candidates(scored["ifd"].to_numpy(), budget, config.candidate_factor)]
    rejected = scored.join(candidates.select("sample_id"), on="sample_id", how="anti").select(
        "sample_id",
        score=pl.col("ifd"),
        reason=pl.when(pl.col("ifd") < 1).then(pl.lit("not_candidate")).otherwise(pl.lit("unaligned_ifd")),
        detail=pl.format("epoch 0 IFD {}", pl.col("ifd").round(4)),
    )
    texts = foundational_set.select("sample_id", "messages", "response")
    candidates = candidates.join(texts.collect(), on="sample_id", how="left", maintain_order="left")
    if config.epoch >= 1:
        candidates, unaligned = rescored_candidates(context, config, lake, llm, candidates)
        rejected = pl.concat([rejected, unaligned], how="diagonal_relaxed")
    ifd = candidates["ifd"].to_numpy()
    features = tfidf_features(candidates["response"])
    expected = min(budget, candidates.height)
    result = iterit_greedy(ifd, features, expected, decay=config.decay)
    picks = iterit_picks(ifd, features, result, decay=config.decay)
    context.log.info(
        f"epoch {config.epoch}: {len(picks)} picked from {candidates.height} candidates, "
        f"{result.evaluations} score evaluations (the naive loop: {candidates.height * expected})"
    )
    selected = pl.DataFrame(
        {
            "sample_id": candidates["sample_id"].gather([p.index for p in picks]),
            "rank": np.array([p.rank for p in picks], dtype=np.int32),
            "score": [p.score for p in picks],
            "ifd": [p.ifd for p in picks],
            "diversity": [p.diversity for p in picks],
            "detail": [f"epoch {config.epoch}, {p.reason.removeprefix('iterit: ')}" for p in picks],
        },
        schema_overrides={"score": pl.Float64, "ifd": pl.Float64, "diversity": pl.Float64},
    ).with_columns(epoch=pl.lit(config.epoch, pl.Int32))
    yield from publish_selection(context, lake, scored, selected, rejected, expected, ITERIT_CODE_VERSION)


def rescored_candidates(context, config: IterItConfig, lake: LakeResource, llm: LLMResource, candidates):
    """(aligned candidates with IFD recomputed by the rescoring model, the unaligned ones as rejections)."""
    if config.rescoring_checkpoint:
        model = str(materialized_checkpoint(lake, config.rescoring_checkpoint))
    else:
        model = config.rescoring_model or llm.model
    cache = llm_cache(lake, llm, model)
    score_missing(
        context,
        cache,
        candidates,
        score_with_llm(llm, model),
        config.chunk_rows,
        f"iterit rescoring ({model})",
    )
    rescored = candidates.drop("ifd").join(
        cache.scan().select("sample_id", "ifd").collect(), on="sample_id", how="left", maintain_order="left"
    )
    aligned = pl.col("ifd").is_finite() & (pl.col("ifd") < 1)
    unaligned = rescored.filter(~aligned).select(
        "sample_id",
        score=pl.col("ifd"),
        reason=pl.lit("unaligned_ifd"),
        detail=pl.format(
            "epoch {} IFD {} by {}", pl.lit(config.epoch), pl.col("ifd").round(4), pl.lit(model)
        ),
    )
    return rescored.filter(aligned), unaligned
