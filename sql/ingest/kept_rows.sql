-- This chunk's kept rows in the raw_pool schema, in file order: `judged` is in file order, and a filter and
-- projection keep DuckDB's insertion order (preserve_insertion_order), so no sort is needed.
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
