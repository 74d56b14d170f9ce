-- The raw_pool rows and quarantine rows that carry one id.
SELECT 'raw_pool' AS lake_table, source, source_ref.file AS file, source_ref.row AS row, format,
       NULL AS reason, NULL AS detail, to_json(messages)::VARCHAR AS content
FROM raw_pool WHERE sample_id = $id
UNION ALL
SELECT 'quarantine', source, source_ref.file, source_ref.row, format, reason, detail, raw
FROM quarantine WHERE quarantine_id = $id OR sample_id = $id
ORDER BY lake_table DESC, source, file, row
