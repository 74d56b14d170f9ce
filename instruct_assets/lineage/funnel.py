"""The curation funnel: rows in, kept and dropped per stage, and drops by reason, from the decisions."""

from pathlib import Path

import duckdb
import polars as pl

from instruct_assets.lineage.lake_views import create_lake_views
from instruct_assets.paths import read_sql

FUNNEL_SCHEMA = {
    "stage": pl.String,
    "rows_in": pl.Int64,
    "kept": pl.Int64,
    "dropped": pl.Int64,
    "drops_by_reason": pl.String,
}


def curation_funnel(lake_root: Path) -> pl.DataFrame:
    """One row per stage that has decisions, in pipeline order; empty when nothing is materialized."""
    with duckdb.connect() as con:
        if "decisions" not in create_lake_views(con, lake_root):
            return pl.DataFrame(schema=FUNNEL_SCHEMA)
        return pl.from_arrow(con.sql(read_sql("reporting/curation_funnel.sql")).to_arrow_table())
