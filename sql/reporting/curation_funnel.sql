-- The curation funnel from the decisions: per stage, rows in, kept, dropped, and drops by reason.
-- Selections are not funnel steps: each is an alternative subset of F (reported in its own metadata
-- and by `audit`), so their decisions are left out.
WITH curation AS (
    SELECT * FROM decisions WHERE NOT ends_with(stage, '_selection')
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
