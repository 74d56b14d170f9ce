"""What every per-source curation stage does once it has a verdict per input row: write the kept rows
and one decision per row, atomically, and account for every row from the files written."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow.parquet as pq

from instruct_assets.lineage.decisions import DECISIONS_SCHEMA
from instruct_assets.markdown import PREVIEW_ROWS, markdown_table, preview_text
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.parquet_io_manager import StagedParquet

KEPT_ROWS_BATCH = 20_000
TEXT_PREVIEW_COLUMNS = {"prompt", "response"}  # shortened in previews; ids and labels are shown whole


def rows_accounted_spec(asset: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "rows_accounted",
        asset=asset,
        blocking=True,
        description="rows in = rows kept + rows dropped, by reason; one decision per input row",
    )


@dataclass(frozen=True)
class StageResult:
    staged_kept: Path
    rows_in: int
    rows_kept: int
    dropped_by_reason: dict[str, int]
    decisions: int

    @property
    def accounted(self) -> bool:
        return self.rows_in == self.rows_kept + sum(self.dropped_by_reason.values()) == self.decisions


def write_source_stage(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    stage: str,
    input_path: Path,
    verdicts: pl.DataFrame,
    code_version: str,
    added_columns: tuple[str, ...] = (),
) -> StageResult:
    """Stage the kept rows of `input_path` (plus `added_columns` from the verdicts) and publish the
    stage's decisions. `verdicts` has one row per input row: sample_id, kept, reason, detail, score,
    ref_id. Raises if an input row has no verdict: a stage never drops a row silently."""
    partition = context.partition_key
    rows = pl.scan_parquet(input_path)
    decisions_path = write_decisions(context, lake, stage, partition, rows, verdicts, code_version)
    staged_kept = lake.staging_path(context.run_id, f"{stage}.{partition}.parquet")
    chosen = verdicts.filter("kept").select("sample_id", *added_columns)
    write_kept_rows([input_path], chosen, staged_kept)

    written = pq.ParquetFile(staged_kept).metadata.num_rows
    dropped = pl.read_parquet(decisions_path, columns=["kept", "reason"])
    by_reason = dict(dropped.filter(~pl.col("kept")).group_by("reason").len().sort("reason").iter_rows())
    return StageResult(
        staged_kept=staged_kept,
        rows_in=pq.ParquetFile(input_path).metadata.num_rows,
        rows_kept=written,
        dropped_by_reason=by_reason,
        decisions=dropped.height,
    )


def write_kept_rows(paths: list[Path], chosen: pl.DataFrame, out_path: Path) -> None:
    """Write the rows of `paths` whose sample_id is in `chosen`, in file order, plus chosen's other
    columns. Batch by batch, so memory holds one batch: a join over the whole pool (polars, or DuckDB
    with an ORDER BY to keep file order) held 1-2 GiB at a million rows."""
    writer = None
    try:
        for path in paths:
            for batch in pq.ParquetFile(path).iter_batches(KEPT_ROWS_BATCH):
                kept = pl.from_arrow(batch).join(chosen, on="sample_id", how="inner", maintain_order="left")
                table = kept.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(out_path, table.schema, compression="zstd")
                writer.write_table(table.cast(writer.schema))
        if writer is None:  # no input rows at all: an empty file with the right columns
            empty = pl.scan_parquet(paths).join(chosen.lazy(), on="sample_id", how="inner").head(0).collect()
            pq.write_table(empty.to_arrow(), out_path, compression="zstd")
    finally:
        if writer is not None:
            writer.close()


def write_decisions(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    stage: str,
    partition: str | None,
    rows: pl.LazyFrame,
    verdicts: pl.DataFrame,
    code_version: str,
) -> Path:
    """Publish one decision per row of `rows` (which has sample_id, source, source_ref) from `verdicts`
    (sample_id, kept, reason, detail, score, ref_id); refuses to write if a row has no verdict."""
    decided = rows.select("sample_id", "source", "source_ref").join(
        verdicts.lazy(), on="sample_id", how="left", maintain_order="left"
    )
    decisions = decided.with_columns(
        quarantine_id=pl.lit(None, pl.String),
        stage=pl.lit(stage),
        run_id=pl.lit(context.run_id),
        code_version=pl.lit(code_version),
    ).collect()
    undecided = decisions.filter(pl.col("kept").is_null())
    if undecided.height:
        raise RuntimeError(
            f"{stage}[{partition or 'all'}]: {undecided.height} rows got no verdict "
            f"(first: {undecided['sample_id'][0]}); this is a bug in the stage, nothing was written"
        )
    staged = lake.staging_path(context.run_id, f"decisions.{stage}.{partition or 'all'}.parquet")
    pq.write_table(
        decisions.select(DECISIONS_SCHEMA.names).to_arrow().cast(DECISIONS_SCHEMA), staged, compression="zstd"
    )
    return lake.publish(staged, lake.decisions_path(stage, partition))


def stage_outputs(
    result: StageResult, asset: str, final_path: Path, preview_columns: list[str], output_name: str = "result"
):
    """The Output and rows_accounted check result of a per-source stage (output_name: the asset's name
    in a multi-asset, "result" in a single one)."""
    dropped = pl.DataFrame(
        {"reason": list(result.dropped_by_reason), "rows": list(result.dropped_by_reason.values())},
        schema={"reason": pl.String, "rows": pl.Int64},
    )
    preview = (
        pl.scan_parquet(result.staged_kept)
        .select(preview_text(c) if c in TEXT_PREVIEW_COLUMNS else pl.col(c) for c in preview_columns)
        .head(PREVIEW_ROWS)
        .collect()
    )
    metadata = {
        "dagster/row_count": result.rows_kept,
        "rows_in": result.rows_in,
        "rows_kept": result.rows_kept,
        "rows_dropped": result.rows_in - result.rows_kept,
        "dropped_by_reason": dg.MetadataValue.md(markdown_table(dropped, empty="nothing dropped")),
        "preview": dg.MetadataValue.md(markdown_table(preview, empty="no rows kept")),
        "path": dg.MetadataValue.path(str(final_path)),
    }
    check = dg.AssetCheckResult(
        check_name="rows_accounted",
        asset_key=asset,
        passed=result.accounted,
        metadata={
            "rows_in": result.rows_in,
            "rows_kept": result.rows_kept,
            "rows_dropped": sum(result.dropped_by_reason.values()),
            "decisions": result.decisions,
        },
    )
    return dg.Output(StagedParquet(result.staged_kept), output_name=output_name, metadata=metadata), check
