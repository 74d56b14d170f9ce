-- This chunk's quarantined rows in the quarantine schema, in file order. `raw` is the line's text,
-- cut to $raw_max_chars; it is NULL where the line was not decoded (filled in from the bytes by the caller).
-- quarantine_id = 'q' || md5(source 0x1F file 0x1F row): stable across re-runs of the same file.
SELECT
    'q' || md5($source || chr(31) || $file || chr(31) || d.row::VARCHAR) AS quarantine_id,
    $source AS source,
    {'file': $file, 'row': d.row} AS source_ref,
    $format AS format,
    coalesce(j.reason, d.reason) AS reason,
    coalesce(j.detail, d.detail) AS detail,
    left(rtrim(d.text, e'\r\n'), $raw_max_chars) AS raw,
    d.raw_bytes,
    j.sample_id
FROM decoded AS d
LEFT JOIN judged AS j ON j.row = d.row
WHERE coalesce(j.reason, d.reason) IS NOT NULL
ORDER BY d.row
