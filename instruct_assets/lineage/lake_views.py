"""DuckDB views over the lake's Parquet files: each pool stage, F and decisions across all partitions."""

from pathlib import Path

import duckdb

# view name -> glob under the lake root
LAKE_VIEWS = {
    "raw_pool": "raw_pool/*.parquet",
    "quarantine": "quarantine/*.parquet",
    "deduped_pool": "deduped_pool/*.parquet",
    "filtered_pool": "filtered_pool/*.parquet",
    "decontaminated_pool": "decontaminated_pool/*.parquet",
    "foundational_set": "foundational_set.parquet",
    "scored_pool": "scored_pool.parquet",
    "decisions": "decisions/*/*.parquet",
}


def _sql_string(value: str) -> str:
    # DuckDB cannot bind parameters in DDL, and a view kept in a database file must name its files
    # literally, so the path is quoted here (the one place SQL text is built from a value).
    return "'" + value.replace("'", "''") + "'"


def create_lake_views(con: duckdb.DuckDBPyConnection, lake_root: Path) -> list[str]:
    """(Re)create a view per lake table that has files; returns the names of the views created."""
    created = []
    for name, pattern in LAKE_VIEWS.items():
        if not any(lake_root.glob(pattern)):
            continue
        glob = _sql_string(str(lake_root / pattern))
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({glob}, union_by_name = true)"
        )
        created.append(name)
    return created
