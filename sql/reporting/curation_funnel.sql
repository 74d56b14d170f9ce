-- The curation funnel from the decisions: per stage, rows in, kept, dropped, and drops by reason.
-- Only the curation stages that lead to F: selections (alternative subsets of F), the stage-2 loss
-- filter and the checkpoints' training records are reported in their own metadata and by `audit`.
WITH curation AS (
    SELECT * FROM decisions WHERE stage IN ('ingest', 'dedup', 'filter', 'decontamination', 'dsir')
),
per_reason AS (
    SELECT stage, reason, count(*) AS n FROM curation WHERE NOT kept GROUP BY ALL
),
reasons AS (
    SELECT stage, string_agg(reason || ' ' || n::VARCHAR, ', ' ORDER BY n DESC, reason) AS drops
    FROM per_reason GROUP BY stage
)
SELECT
    d.stage,
    count(*) AS rows_in,
    count(*) FILTER (WHERE d.kept) AS kept,
    count(*) FILTER (WHERE NOT d.kept) AS dropped,
    coalesce(any_value(r.drops), '') AS drops_by_reason
FROM curation AS d
LEFT JOIN reasons AS r USING (stage)
GROUP BY d.stage
ORDER BY list_position(['ingest', 'dedup', 'filter', 'decontamination', 'dsir'], d.stage) NULLS LAST, d.stage
