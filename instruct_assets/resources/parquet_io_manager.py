"""Stores asset values as Parquet files in the lake, partition-aware and atomic; loads them lazily."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

from instruct_assets.resources.lake import LakeResource


@dataclass(frozen=True)
class StagedParquet:
    """A Parquet file an asset already wrote at a lake staging path; publishing it is a rename."""

    path: Path


class ParquetIOManager(dg.ConfigurableIOManager):
    """Writes polars frames (or staged files) to the lake; loads them as polars LazyFrames.

    A downstream asset that depends on several partitions gets one LazyFrame scanning all of them.
    """

    lake: dg.ResourceDependency[LakeResource]

    def handle_output(
        self, context: dg.OutputContext, obj: pl.DataFrame | pl.LazyFrame | StagedParquet
    ) -> None:
        partition = context.partition_key if context.has_partition_key else None
        final = self.lake.asset_path(context.asset_key, partition)
        if isinstance(obj, StagedParquet):
            self.lake.publish(obj.path, final)
            return
        name = f"{context.asset_key.to_python_identifier()}.{final.name}"
        staged = self.lake.staging_path(context.run_id, name)
        if isinstance(obj, pl.LazyFrame):
            obj.sink_parquet(staged, compression="zstd")
        else:
            obj.write_parquet(staged, compression="zstd")
        self.lake.publish(staged, final)

    def load_input(self, context: dg.InputContext) -> pl.LazyFrame:
        key = context.asset_key
        if context.has_asset_partitions:
            paths = [self.lake.asset_path(key, p) for p in context.asset_partition_keys]
            missing = [str(p) for p in paths if not p.exists()]
            if missing:
                raise FileNotFoundError(f"{key.to_user_string()} has unmaterialized partitions: {missing}")
            return pl.scan_parquet(paths)
        return pl.scan_parquet(self.lake.asset_path(key))
