import dagster as dg
import duckdb

from instruct_assets.defs.ingest.config import IngestConfig
from instruct_assets.defs.ingest.metadata import quarantine_metadata, raw_pool_metadata
from instruct_assets.defs.ingest.partitions import sources_partitions
from instruct_assets.ingest.source_ingest import SourceIngestor
from instruct_assets.lineage.decisions import write_ingest_decisions
from instruct_assets.paths import PROJECT_ROOT, read_sql
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.landing import LandingZoneResource
from instruct_assets.resources.parquet_io_manager import StagedParquet
from instruct_assets.versioning import code_version_of

INGEST_CODE_VERSION = code_version_of(
    PROJECT_ROOT / "instruct_assets" / "ingest",
    PROJECT_ROOT / "sql" / "ingest",
    PROJECT_ROOT / "sql" / "lineage",
)
OWNERS = ["team:data-curation"]
SOURCE_FINGERPRINT = "source_fingerprint"  # raw_pool metadata: which version of the files was ingested

RAW_POOL_DOC = """Canonical conversations of one source.

Grain: one row per distinct conversation in the source (partition = source).

Source: the source's files in the landing directory (JSONL, JSONL.gz, Parquet; alpaca, sharegpt or
OpenAI messages), read in file-name order.

Guarantees: every row read from the source is here or in `quarantine`, never both, never neither;
`sample_id` (md5 of the normalized conversation) is unique within the partition and equal for the same
conversation in any source or format; `source_ref` gives file and 1-based row; content is normalized
(CRLF -> LF, NFC, trimmed); every conversation has a user turn answered by a non-empty assistant turn.
"""

QUARANTINE_DOC = """Rows of one source that could not become canonical conversations, with the reason.

Grain: one row per rejected row read (partition = source).

Source: the same files as `raw_pool`, in the same run.

Guarantees: each row has one `reason` (see instruct_assets.ingest.reasons), a `detail` naming what was
wrong, `source_ref` (file, row) and up to 64 KiB of the raw text; nothing read is dropped silently.
"""


@dg.multi_asset(
    name="ingest_source",
    partitions_def=sources_partitions,
    outs={
        "raw_pool": dg.AssetOut(
            description=RAW_POOL_DOC,
            kinds={"parquet", "duckdb"},
            owners=OWNERS,
            code_version=INGEST_CODE_VERSION,
        ),
        "quarantine": dg.AssetOut(
            description=QUARANTINE_DOC,
            kinds={"parquet", "duckdb"},
            owners=OWNERS,
            code_version=INGEST_CODE_VERSION,
        ),
    },
    check_specs=[
        dg.AssetCheckSpec(
            "rows_accounted",
            asset="raw_pool",
            blocking=True,
            description="rows read = rows written to raw_pool + rows written to quarantine",
        ),
        dg.AssetCheckSpec(
            "unique_sample_id",
            asset="raw_pool",
            blocking=True,
            description="sample_id is present and unique within the partition",
        ),
    ],
    group_name="raw",
    can_subset=False,
)
def ingest_source(
    context: dg.AssetExecutionContext, config: IngestConfig, landing: LandingZoneResource, lake: LakeResource
):
    """Read one source into raw_pool and quarantine; record the ingest decision for every row."""
    source = landing.source(context.partition_key)
    fingerprint = source.fingerprint()
    kept_path = lake.staging_path(context.run_id, f"raw_pool.{source.name}.parquet")
    quarantine_path = lake.staging_path(context.run_id, f"quarantine.{source.name}.parquet")
    with SourceIngestor(source.name, kept_path, quarantine_path, config.to_settings()) as ingestor:
        for path in source.files:
            report = ingestor.ingest_file(path, landing.file_ref(path), source.format)
            context.log.info(
                f"{report.file}: {report.rows_read} rows read, {report.kept} kept, format {report.format}"
            )
    stats = ingestor.stats
    for ignored in source.ignored_files:
        context.log.warning(f"{ignored}: not a data file (.jsonl, .jsonl.gz, .parquet); ignored")

    with duckdb.connect() as con:
        params = {"kept_path": str(kept_path), "quarantine_path": str(quarantine_path)}
        kept, quarantined, distinct_ids, null_ids = con.sql(
            read_sql("checks/ingest_written_counts.sql"), params=params
        ).fetchall()[0]

    decisions_staged = lake.staging_path(context.run_id, f"decisions.{source.name}.parquet")
    write_ingest_decisions(kept_path, quarantine_path, decisions_staged, context.run_id, INGEST_CODE_VERSION)
    lake.publish(decisions_staged, lake.decisions_path("ingest", source.name))

    raw_pool_final = lake.asset_path(dg.AssetKey("raw_pool"), source.name)
    quarantine_final = lake.asset_path(dg.AssetKey("quarantine"), source.name)
    raw_meta = raw_pool_metadata(stats, kept_path, raw_pool_final)
    raw_meta[SOURCE_FINGERPRINT] = fingerprint
    if source.description:
        raw_meta["source_description"] = source.description
    if source.license:
        raw_meta["source_license"] = source.license
    quarantine_meta = quarantine_metadata(stats, quarantine_path, quarantine_final)
    yield dg.Output(StagedParquet(kept_path), output_name="raw_pool", metadata=raw_meta)
    yield dg.Output(StagedParquet(quarantine_path), output_name="quarantine", metadata=quarantine_meta)
    yield dg.AssetCheckResult(
        check_name="rows_accounted",
        asset_key="raw_pool",
        passed=stats.rows_read == kept + quarantined,
        metadata={"rows_read": stats.rows_read, "rows_in_raw_pool": kept, "rows_in_quarantine": quarantined},
    )
    yield dg.AssetCheckResult(
        check_name="unique_sample_id",
        asset_key="raw_pool",
        passed=distinct_ids == kept and null_ids == 0,
        metadata={"rows": kept, "distinct_sample_ids": distinct_ids, "null_sample_ids": null_ids},
    )
