"""The data lake: one directory of Parquet files per asset, written atomically.

Layout under `lake_dir`:
    <asset>/<partition>.parquet      a partitioned asset (one file per partition)
    <asset>.parquet                  an unpartitioned asset
    decisions/<stage>/<partition>.parquet   the decisions each stage made about each row
    .staging/<run_id>.<name>         files being written; renamed into place when complete
A reader never sees a half-written file: writers stage on the same filesystem and publish with an
atomic rename, so a killed run leaves the previous version in place (and litter only in .staging).
"""

import os
from pathlib import Path

import dagster as dg

from instruct_assets.paths import resolve_project_path


class LakeResource(dg.ConfigurableResource):
    """Local directory of Parquet files; the root of every path the pipeline writes."""

    lake_dir: str

    @property
    def root(self) -> Path:
        return resolve_project_path(self.lake_dir)

    def asset_path(self, asset_key: dg.AssetKey, partition_key: str | None = None) -> Path:
        base = self.root.joinpath(*asset_key.path)
        return (
            base / f"{partition_key}.parquet" if partition_key is not None else base.with_suffix(".parquet")
        )

    def asset_glob(self, asset_key: dg.AssetKey) -> str:
        """A glob over every partition of a partitioned asset (for DuckDB's read_parquet)."""
        return str(self.root.joinpath(*asset_key.path) / "*.parquet")

    def decisions_path(self, stage: str, partition_key: str | None = None) -> Path:
        return self.root / "decisions" / stage / f"{partition_key or '_all'}.parquet"

    def decisions_glob(self) -> str:
        return str(self.root / "decisions" / "*" / "*.parquet")

    def staging_path(self, run_id: str, name: str) -> Path:
        """Where a run writes a file before publishing it: named by the run, so a killed run's leftovers
        are traceable, and flat, so publishing leaves nothing behind."""
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        return staging / f"{run_id}.{name}"

    def publish(self, staged: Path, final: Path) -> Path:
        """Move a complete staged file into place in one atomic step."""
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)
        return final
