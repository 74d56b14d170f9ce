-- A file whose format cannot be told: every row that decoded is quarantined as unknown_format.
-- Output has the columns of canonicalize.sql so the rest of the pipeline treats it the same way.
SELECT
    row,
    NULL::VARCHAR AS sample_id,
    NULL AS messages, NULL::VARCHAR AS prompt, NULL::VARCHAR AS response,
    NULL::INTEGER AS turns, NULL::INTEGER AS prompt_chars, NULL::INTEGER AS response_chars,
    NULL::VARCHAR AS meta,
    'unknown_format' AS reason,
    $detail AS detail
FROM decoded
WHERE reason IS NULL
