"""The decisions table: one row per (row read, stage), `sample_id, stage, run_id, code_version, kept,
reason, score` plus where the row came from and `ref_id`, the id a decision points at. Each stage
writes its own file per partition.
`quarantine_id` is set on the decision that quarantined a row, so the audit finds it by either id."""

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from instruct_assets.ingest.schema import SOURCE_REF
from instruct_assets.paths import read_sql

DECISIONS_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("quarantine_id", pa.string()),
        ("stage", pa.string()),
        ("source", pa.string()),
        ("source_ref", SOURCE_REF),
        ("run_id", pa.string()),
        ("code_version", pa.string()),
        ("kept", pa.bool_()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("score", pa.float64()),
        ("ref_id", pa.string()),  # what the decision points at: the survivor of a duplicate, a benchmark item
    ]
)


def write_ingest_decisions(
    kept_path: Path, quarantine_path: Path, out_path: Path, run_id: str, code_version: str
) -> int:
    """Write the ingest decisions for one source's staged outputs; returns the number of decisions."""
    params = {
        "kept_path": str(kept_path),
        "quarantine_path": str(quarantine_path),
        "run_id": run_id,
        "code_version": code_version,
    }
    with duckdb.connect() as con:
        table = con.sql(read_sql("lineage/ingest_decisions.sql"), params=params).to_arrow_table()
    pq.write_table(table.cast(DECISIONS_SCHEMA), out_path, compression="zstd")
    return table.num_rows
