import dagster as dg
import duckdb
import polars as pl

from instruct_assets.defs.ingest.assets import OWNERS, ingest_source
from instruct_assets.lineage.lake_views import create_lake_views
from instruct_assets.markdown import markdown_table
from instruct_assets.paths import PROJECT_ROOT, read_sql
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.warehouse import WarehouseResource
from instruct_assets.versioning import code_version_of

# eager(), except that a source registered but never ingested does not hold the report back, and nothing
# is requested before the first source is ingested.
REFRESH_WHEN_ANY_SOURCE_UPDATES = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("eager, tolerating unmaterialized sources")


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
