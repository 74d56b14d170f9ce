-- What one ingest run actually wrote, read back from its staged files (input to the blocking checks).
SELECT
    (SELECT count(*) FROM read_parquet($kept_path)) AS kept,
    (SELECT count(*) FROM read_parquet($quarantine_path)) AS quarantined,
    (SELECT count(DISTINCT sample_id) FROM read_parquet($kept_path)) AS distinct_sample_ids,
    (SELECT count(*) FROM read_parquet($kept_path) WHERE sample_id IS NULL) AS null_sample_ids
