"""A DuckDB database file with views over the lake, for ad-hoc queries (`duckdb data/warehouse.duckdb`)."""

import dagster as dg
import duckdb

from instruct_assets.lineage.lake_views import create_lake_views
from instruct_assets.paths import resolve_project_path
from instruct_assets.resources.lake import LakeResource


class WarehouseResource(dg.ConfigurableResource):
    """Holds views only; the data stays in the lake's Parquet files. One writer at a time (DuckDB's lock)."""

    warehouse_path: str
    lake: dg.ResourceDependency[LakeResource]

    def refresh_views(self) -> list[str]:
        path = resolve_project_path(self.warehouse_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(path)) as con:
            return create_lake_views(con, self.lake.root)
