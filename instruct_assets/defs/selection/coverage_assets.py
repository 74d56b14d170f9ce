from typing import Literal

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from instruct_assets.defs.selection.config import SelectionConfig
from instruct_assets.defs.selection.publishing import publish_selection, selection_asset
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.selection.coverage import (
    DEFAULT_GROUND_SET_SIZE,
)
from instruct_assets.selection.coverage import (
    coverage_selection as select_by_coverage,
)
from instruct_assets.versioning import code_version_of

COVERAGE_CODE_VERSION = code_version_of(
    PROJECT_ROOT / "instruct_assets" / "selection" / "coverage.py",
    PROJECT_ROOT / "instruct_assets" / "selection" / "greedy.py",
    PROJECT_ROOT / "instruct_assets" / "defs" / "selection" / "coverage_assets.py",
    PROJECT_ROOT / "instruct_assets" / "defs" / "selection" / "publishing.py",
)


class CoverageConfig(SelectionConfig):
    depth: Literal["ifd", "nll_conditional"] = Field(
        "ifd",
        description="depth per sample: IFD (how much the answer needs its instruction) or PPL(y|x)'s log",
    )
    embedding: Literal["embedding", "lm_embedding"] = Field(
        "embedding",
        description="the semantic space: the sentence embedding of the prompt, or the LM's vector",
    )
    depth_weight: float = Field(0.5, description="0: coverage only; 1: depth only")
    ground_set_size: int = Field(
        DEFAULT_GROUND_SET_SIZE, description="pool points that coverage is measured on"
    )
    exclude_unaligned: bool = Field(
        True, description="never pick IFD >= 1 (the answer does not need the prompt)"
    )
    seed: int = Field(0, description="seed of the ground-set sample")


@selection_asset("coverage_selection", COVERAGE_CODE_VERSION, {"numpy", "parquet"})
def coverage_selection(
    context: dg.AssetExecutionContext, config: CoverageConfig, lake: LakeResource, scored_pool: pl.LazyFrame
):
    """Depth x semantic coverage (paper 001): deep samples that together cover the pool's semantic space.

    Grain: one row per selected sample: sample_id, source, dsir_domain, rank (greedy order), score (its
    gain of the objective when picked), depth (rank-normalised), coverage_gain, detail.

    Source: scored_pool (`ifd` or `nll_conditional` as depth; `embedding` or `lm_embedding`).

    Guarantees: greedy (lazy, exact) maximisation of depth_weight x mean depth + (1 - depth_weight) x
    facility-location coverage of a seeded ground set of pool points, a monotone submodular objective:
    within 1 - 1/e of the best subset of that size; IFD >= 1 samples excluded (reason `unaligned_ifd`)
    unless configured otherwise. Choices the paper's summary leaves open are in docs/selection.md.
    """
    columns = ["sample_id", "source", "dsir_domain", "ifd", config.depth, config.embedding]
    scored = scored_pool.select(list(dict.fromkeys(columns))).collect()
    unaligned = (
        (scored["ifd"] >= 1).fill_null(True)
        if config.exclude_unaligned
        else pl.Series([False] * scored.height)
    )
    depth = scored[config.depth].to_numpy().astype(np.float64).copy()
    depth[unaligned.to_numpy()] = np.nan
    eligible = int(np.isfinite(depth).sum())
    budget = min(config.budget_for(scored.height), eligible)
    picked = select_by_coverage(
        depth,
        scored[config.embedding].to_numpy(),
        budget,
        weight=config.depth_weight,
        ground_set_size=config.ground_set_size,
        seed=config.seed,
    )
    context.log.info(
        f"{len(picked)} picked from {eligible} eligible; coverage {picked.coverage:.4f}, "
        f"{picked.evaluations} gain evaluations"
    )
    picks = pl.DataFrame(
        {
            "sample_id": scored["sample_id"].gather(picked.index),
            "rank": picked.rank.astype(np.int32),
            "score": picked.gain,
            "depth": picked.depth,
            "coverage_gain": picked.coverage_gain,
        }
    ).with_columns(
        detail=pl.format(
            "rank {}: depth {} (rank-normalised {}), coverage gain {}",
            "rank",
            pl.lit(config.depth),
            pl.col("depth").round(3),
            pl.col("coverage_gain").round(4),
        )
    )
    rejected = scored.filter(unaligned).select(
        "sample_id",
        score=pl.col("ifd"),
        reason=pl.lit("unaligned_ifd"),
        detail=pl.format("IFD {} >= 1: the answer does not need its instruction", pl.col("ifd").round(4)),
    )
    yield from publish_selection(context, lake, scored, picks, rejected, budget, COVERAGE_CODE_VERSION)
