-- This chunk's kept rows in the raw_pool schema, in file order.
SELECT
    sample_id,
    $source AS source,
    {'file': $file, 'row': row} AS source_ref,
    $format AS format,
    messages,
    prompt,
    response,
    turns,
    prompt_chars,
    response_chars,
    meta
FROM judged
WHERE reason IS NULL
ORDER BY row
