import dagster as dg
import duckdb
import polars as pl

from instruct_assets.defs.automation import REFRESH_WHEN_ANY_SOURCE_UPDATES
from instruct_assets.defs.ingest.assets import OWNERS, ingest_source
from instruct_assets.lineage.funnel import curation_funnel as funnel_of
from instruct_assets.lineage.lake_views import create_lake_views
from instruct_assets.markdown import markdown_table
from instruct_assets.paths import PROJECT_ROOT, read_sql
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.warehouse import WarehouseResource
from instruct_assets.versioning import code_version_of

EMPTY_ACCOUNTING = {
    "source": pl.String,
    "rows_read": pl.Int64,
    "kept": pl.Int64,
    "quarantined": pl.Int64,
    "quarantine_reasons": pl.String,
}


@dg.asset(
    deps=[ingest_source.keys_by_output_name["raw_pool"], ingest_source.keys_by_output_name["quarantine"]],
    kinds={"duckdb", "parquet"},
    owners=OWNERS,
    group_name="reporting",
    code_version=code_version_of(PROJECT_ROOT / "sql" / "reporting" / "source_accounting.sql"),
    automation_condition=REFRESH_WHEN_ANY_SOURCE_UPDATES,
)
def source_accounting(lake: LakeResource, warehouse: WarehouseResource) -> dg.Output[pl.DataFrame]:
    """Rows read, kept and quarantined per source, from the ingest decisions.

    Grain: one row per source.

    Source: the decisions table (lake decisions/ingest/*).

    Guarantees: rows_read = kept + quarantined for every source; the DuckDB warehouse's views
    (raw_pool, quarantine, decisions) are refreshed to cover every partition.
    """
    with duckdb.connect() as con:
        if "decisions" in create_lake_views(con, lake.root):
            accounting = pl.from_arrow(con.sql(read_sql("reporting/source_accounting.sql")).to_arrow_table())
        else:
            accounting = pl.DataFrame(schema=EMPTY_ACCOUNTING)
    views = warehouse.refresh_views()
    totals = accounting.select(pl.col("rows_read", "kept", "quarantined").sum()).row(0, named=True)
    return dg.Output(
        accounting,
        metadata={
            "dagster/row_count": accounting.height,
            "accounting": dg.MetadataValue.md(markdown_table(accounting)),
            **{f"total_{k}": v for k, v in totals.items()},
            "warehouse_views": ", ".join(views),
        },
    )


@dg.asset(
    deps=[dg.AssetKey("foundational_set")],
    kinds={"duckdb", "parquet"},
    owners=OWNERS,
    group_name="reporting",
    code_version=code_version_of(PROJECT_ROOT / "sql" / "reporting" / "curation_funnel.sql"),
    automation_condition=REFRESH_WHEN_ANY_SOURCE_UPDATES,
)
def curation_funnel(lake: LakeResource, warehouse: WarehouseResource) -> dg.Output[pl.DataFrame]:
    """Rows per curation stage and drops per reason, from raw rows read to the foundational set.

    Grain: one row per stage (ingest, dedup, filter, decontamination, dsir).

    Source: the decisions table (lake decisions/<stage>/*), every source.

    Guarantees: rows_in = kept + dropped per stage; drops_by_reason sums to dropped; the warehouse views
    are refreshed to cover every stage.
    """
    funnel = funnel_of(lake.root)
    views = warehouse.refresh_views()
    return dg.Output(
        funnel,
        metadata={
            "dagster/row_count": funnel.height,
            "funnel": dg.MetadataValue.md(markdown_table(funnel)),
            "warehouse_views": ", ".join(views),
        },
    )
