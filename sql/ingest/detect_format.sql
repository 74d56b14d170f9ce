-- Count, over a sample of decoded rows, how many carry each format's signature keys.
-- Input table `decoded(row, text, reason)`; $sample_rows bounds the sample.
WITH sample AS (
    SELECT text FROM decoded WHERE reason IS NULL ORDER BY row LIMIT $sample_rows
)
SELECT
    count(*) FILTER (WHERE json_type(text, '$.conversations') = 'ARRAY') AS sharegpt,
    count(*) FILTER (WHERE json_type(text, '$.messages') = 'ARRAY') AS openai,
    count(*) FILTER (WHERE json_exists(text, '$.instruction') AND json_exists(text, '$.output')) AS alpaca,
    count(*) AS sampled,
    (SELECT string_agg(DISTINCT k, ', ') FROM (SELECT unnest(json_keys(text)) AS k FROM sample)) AS keys_seen
FROM sample
