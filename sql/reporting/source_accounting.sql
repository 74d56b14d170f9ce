-- Per source: rows read, kept, quarantined, and the quarantine reasons with counts, from the decisions.
WITH ingest AS (SELECT * FROM decisions WHERE stage = 'ingest'),
reasons AS (
    SELECT source, string_agg(reason || ' ' || n::VARCHAR, ', ' ORDER BY n DESC, reason) AS quarantine_reasons
    FROM (SELECT source, reason, count(*) AS n FROM ingest WHERE NOT kept GROUP BY ALL)
    GROUP BY source
)
SELECT
    i.source,
    count(*) AS rows_read,
    count(*) FILTER (WHERE i.kept) AS kept,
    count(*) FILTER (WHERE NOT i.kept) AS quarantined,
    coalesce(any_value(r.quarantine_reasons), '') AS quarantine_reasons
FROM ingest AS i
LEFT JOIN reasons AS r USING (source)
GROUP BY i.source
ORDER BY i.source
