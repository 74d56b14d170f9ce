-- What deduplication compares for each row of one raw_pool partition. No ORDER BY: ranking uses `seen`,
-- and sorting would hold every row's text in memory at once.
-- exact_key: md5 of the conversation text lower-cased, trimmed, every run of whitespace made one space.
SELECT
    sample_id,
    source,
    $priority::INTEGER AS priority,
    length(text)::BIGINT AS chars,
    file_row_number AS seen,
    md5(lower(trim(regexp_replace(text, '[\s\p{Z}]+', ' ', 'g')))) AS exact_key,
    text
FROM (
    SELECT *, conversation_text(messages) AS text
    FROM read_parquet($path, file_row_number = true)
)
