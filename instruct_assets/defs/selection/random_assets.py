import dagster as dg
import numpy as np
import polars as pl

from instruct_assets.defs.selection.config import RandomSelectionConfig
from instruct_assets.defs.selection.publishing import publish_selection, selection_asset
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.versioning import code_version_of

SELECTION_CODE = PROJECT_ROOT / "instruct_assets" / "defs" / "selection"
RANDOM_CODE_VERSION = code_version_of(SELECTION_CODE / "random_assets.py", SELECTION_CODE / "publishing.py")


@selection_asset("random_selection", RANDOM_CODE_VERSION, {"numpy", "parquet"})
def random_selection(
    context: dg.AssetExecutionContext,
    config: RandomSelectionConfig,
    lake: LakeResource,
    scored_pool: pl.LazyFrame,
):
    """The baseline every method is compared with: a seeded uniform sample of the scored pool.

    Grain: one row per selected sample: sample_id, source, dsir_domain, rank (draw order), score (the
    uniform key that ordered it), detail.

    Source: scored_pool.

    Guarantees: `budget` (or fraction x pool) distinct samples drawn uniformly without replacement; the
    same seed and pool draw the same samples; one `random_selection` decision per candidate.
    """
    scored = scored_pool.select("sample_id", "source", "dsir_domain").collect()
    budget = config.budget_for(scored.height)
    keys = np.random.default_rng(config.seed).random(scored.height)
    order = np.argsort(keys, kind="stable")[:budget]
    picks = pl.DataFrame(
        {
            "sample_id": scored["sample_id"].gather(order),
            "rank": np.arange(1, budget + 1, dtype=np.int32),
            "score": keys[order],
            "detail": [f"rank {r}: uniform draw, seed {config.seed}" for r in range(1, budget + 1)],
        }
    )
    yield from publish_selection(context, lake, scored, picks, None, budget, RANDOM_CODE_VERSION)
