-- What deduplication compares for each row of one raw_pool partition, in file order.
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
ORDER BY seen
