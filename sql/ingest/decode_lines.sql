-- Decode one chunk of JSONL lines and reject what cannot be a record.
-- Input table `lines(row BIGINT, raw BLOB, raw_bytes BIGINT)`: one row per non-blank line, `row` = 1-based
-- line number, `raw_bytes` the line's true length (`raw` may be only a preview of an oversize line).
-- Output: one row per input row; `reason` is NULL when `text` is a JSON object ready for extraction.
-- $max_row_bytes: lines longer than this are not decoded (their reason is 'oversize').
WITH decoded AS (
    SELECT
        row,
        raw_bytes,
        CASE WHEN raw_bytes <= $max_row_bytes THEN try(decode(raw)) END AS text
    FROM lines
)
SELECT
    row,
    raw_bytes,
    text,
    CASE
        WHEN raw_bytes > $max_row_bytes THEN 'oversize'
        WHEN text IS NULL THEN 'invalid_utf8'
        WHEN NOT json_valid(text) THEN 'invalid_json'
        WHEN json_type(text) <> 'OBJECT' THEN 'not_an_object'
    END AS reason,
    CASE
        WHEN raw_bytes > $max_row_bytes THEN raw_bytes::VARCHAR || ' bytes > max_row_bytes ' || $max_row_bytes::VARCHAR
        WHEN text IS NULL THEN 'the line is not valid UTF-8'
        WHEN NOT json_valid(text) THEN 'the line does not parse as JSON'
        WHEN json_type(text) <> 'OBJECT' THEN 'a JSON ' || json_type(text) || ', expected an object'
    END AS detail
FROM decoded
