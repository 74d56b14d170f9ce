"""Materialization metadata for the ingest assets: accounting tables and previews a person can read."""

from collections import Counter
from pathlib import Path

import dagster as dg
import polars as pl

from instruct_assets.ingest.source_ingest import IngestStats
from instruct_assets.markdown import PREVIEW_ROWS, markdown_table, preview_text


def reasons_table(reasons: Counter) -> dg.MetadataValue:
    frame = pl.DataFrame(
        {"reason": list(reasons), "rows": list(reasons.values())},
        schema={"reason": pl.String, "rows": pl.Int64},
    ).sort("rows", descending=True)
    return dg.MetadataValue.md(markdown_table(frame, empty="nothing quarantined"))


def raw_pool_metadata(stats: IngestStats, kept_path: Path, final_path: Path) -> dict:
    preview = (
        pl.scan_parquet(kept_path)
        .head(PREVIEW_ROWS)
        .select(
            "sample_id",
            preview_text("prompt").alias("prompt"),
            preview_text("response").alias("response"),
            "turns",
        )
        .collect()
    )
    files = pl.DataFrame([vars(f) for f in stats.files]) if stats.files else pl.DataFrame()
    return {
        "dagster/row_count": stats.kept,
        "rows_read": stats.rows_read,
        "rows_kept": stats.kept,
        "rows_quarantined": stats.quarantined_total,
        "blank_lines_skipped": stats.blank_lines,
        "quarantined_by_reason": reasons_table(stats.quarantined),
        "files": dg.MetadataValue.md(markdown_table(files, empty="no data files")),
        "preview": dg.MetadataValue.md(markdown_table(preview, empty="no rows kept")),
        "path": dg.MetadataValue.path(str(final_path)),
    }


def quarantine_metadata(stats: IngestStats, quarantine_path: Path, final_path: Path) -> dict:
    preview = (
        pl.scan_parquet(quarantine_path)
        .head(PREVIEW_ROWS)
        .select(
            pl.col("source_ref").struct.field("file"),
            pl.col("source_ref").struct.field("row"),
            "reason",
            preview_text("detail").alias("detail"),
        )
        .collect()
    )
    return {
        "dagster/row_count": stats.quarantined_total,
        "quarantined_by_reason": reasons_table(stats.quarantined),
        "preview": dg.MetadataValue.md(markdown_table(preview, empty="nothing quarantined")),
        "path": dg.MetadataValue.path(str(final_path)),
    }
