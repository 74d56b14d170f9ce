import dagster as dg
import polars as pl
from pydantic import Field

from instruct_assets.defs.automation import REFRESH_WHEN_ANY_SOURCE_UPDATES
from instruct_assets.defs.curation.foundational_assets import DECONTAMINATED_POOL, pool_paths
from instruct_assets.defs.ingest.assets import OWNERS
from instruct_assets.defs.training.training_sets import FOUNDATIONAL_SET
from instruct_assets.markdown import markdown_table
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.versioning import code_version_of

INSTRUCTION_DEV_SET = dg.AssetKey("instruction_dev_set")


class InstructionDevSetConfig(dg.Config):
    size: int = Field(64, description="conversations held out for dev loss and judged answers")
    seed: int = Field(0, description="the same seed and pool hold out the same conversations")


@dg.asset(
    deps=[DECONTAMINATED_POOL, FOUNDATIONAL_SET],
    kinds={"parquet", "polars"},
    owners=OWNERS,
    group_name="evaluation",
    code_version=code_version_of(
        PROJECT_ROOT / "instruct_assets" / "defs" / "evaluation" / "dev_set_assets.py"
    ),
    automation_condition=REFRESH_WHEN_ANY_SOURCE_UPDATES,
)
def instruction_dev_set(
    context: dg.AssetExecutionContext, config: InstructionDevSetConfig, lake: LakeResource
) -> dg.Output[pl.DataFrame]:
    """Held-out instruction conversations: the dev set of the `instruction` dev loss and of the judge.

    Grain: one row per conversation: sample_id, source, source_ref, messages.

    Source: decontaminated_pool (every source) minus the foundational set F.

    Guarantees: no sample of F, so none of any training set (every one is F or a subset of it); clean of
    benchmark overlap (decontaminated); a seeded sample, ordered by sample_id, so the same pool and seed
    give the same dev set. The pool outside F is what DSIR did not pick: general instruction data, not
    the benchmark domains, which have their own dev sets (the eval split of benchmark_targets).
    """
    foundational = pl.scan_parquet(lake.asset_path(FOUNDATIONAL_SET)).select("sample_id")
    outside_f = (
        pl.scan_parquet(pool_paths(lake))
        .select("sample_id", "source", "source_ref", "messages")
        .join(foundational, on="sample_id", how="anti")
        .sort("sample_id")
        .collect()
    )
    held_out = outside_f.sample(min(config.size, outside_f.height), seed=config.seed).sort("sample_id")
    context.log.info(f"{held_out.height} of {outside_f.height} pool conversations outside F held out")
    return dg.Output(
        held_out,
        metadata={
            "dagster/row_count": held_out.height,
            "pool_outside_f": outside_f.height,
            "by_source": dg.MetadataValue.md(
                markdown_table(held_out.group_by("source").len().sort("source"))
            ),
        },
    )
