-- Every decision recorded about one id (a sample_id, or a quarantine_id for a row that never parsed).
SELECT stage, kept, reason, detail, score, source, source_ref.file AS file, source_ref.row AS row,
       run_id, code_version
FROM decisions
WHERE sample_id = $id OR quarantine_id = $id
ORDER BY stage, source, file, row
