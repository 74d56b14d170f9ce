-- The ingest stage's decision about every row it read: kept into raw_pool, or quarantined with a reason.
-- A quarantined row that never parsed has no sample_id; its quarantine_id stands in, so every row read
-- has exactly one decision, findable by either id.
SELECT
    sample_id,
    NULL::VARCHAR AS quarantine_id,
    'ingest' AS stage,
    source,
    source_ref,
    $run_id AS run_id,
    $code_version AS code_version,
    true AS kept,
    NULL::VARCHAR AS reason,
    NULL::VARCHAR AS detail,
    NULL::DOUBLE AS score,
    NULL::VARCHAR AS ref_id
FROM read_parquet($kept_path)
UNION ALL
SELECT
    coalesce(sample_id, quarantine_id),
    quarantine_id,
    'ingest',
    source,
    source_ref,
    $run_id,
    $code_version,
    false,
    reason,
    detail,
    NULL::DOUBLE,
    NULL::VARCHAR
FROM read_parquet($quarantine_path)
