-- Decode one chunk of JSONL lines and reject what cannot be a record.
-- Input table `lines(row BIGINT, raw BLOB, raw_bytes BIGINT)`: one row per non-blank line, `row` = 1-based
-- line number, `raw_bytes` the line's true length (`raw` may be only a preview of an oversize line).
-- Output: one row per input row; `reason` is NULL when `text` is a JSON object ready for extraction.
-- $max_row_bytes: lines longer than this are not decoded (their reason is 'oversize').
-- Each JSON function parses the whole line, so a line is parsed once (json_valid); `detail` reads `reason`
-- rather than repeating its tests, and parses again only for the rare line that is not an object.
WITH decoded AS (
    SELECT
        row,
        raw_bytes,
        CASE WHEN raw_bytes <= $max_row_bytes THEN try(decode(raw)) END AS text
    FROM lines
),
checked AS (
    SELECT
        *,
        CASE
            WHEN raw_bytes > $max_row_bytes THEN 'oversize'
            WHEN text IS NULL THEN 'invalid_utf8'
            WHEN NOT json_valid(text) THEN 'invalid_json'
            -- Valid JSON is an object exactly when its first non-blank character is '{'.
            WHEN NOT starts_with(ltrim(text, e' \t\n\r'), '{') THEN 'not_an_object'
        END AS reason
    FROM decoded
)
SELECT
    row,
    raw_bytes,
    text,
    reason,
    CASE reason
        WHEN 'oversize' THEN raw_bytes::VARCHAR || ' bytes > max_row_bytes ' || $max_row_bytes::VARCHAR
        WHEN 'invalid_utf8' THEN 'the line is not valid UTF-8'
        WHEN 'invalid_json' THEN 'the line does not parse as JSON'
        WHEN 'not_an_object' THEN 'a JSON ' || json_type(text) || ', expected an object'
    END AS detail
FROM checked
