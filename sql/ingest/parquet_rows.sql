-- Read a Parquet source file as one JSON object per row, in the shape decode_lines.sql produces.
-- $path: the file; `row` is the 1-based row number in the file. Columns become the object's keys.
WITH records AS (
    SELECT
        file_row_number + 1 AS row,
        to_json(p) AS text
    FROM (SELECT * FROM read_parquet($path, file_row_number = true)) AS numbered,
         LATERAL (SELECT numbered.* EXCLUDE (file_row_number)) AS p
)
SELECT
    row,
    strlen(text) AS raw_bytes,
    text,
    CASE WHEN strlen(text) > $max_row_bytes THEN 'oversize' END AS reason,
    CASE WHEN strlen(text) > $max_row_bytes
        THEN strlen(text)::VARCHAR || ' bytes > max_row_bytes ' || $max_row_bytes::VARCHAR
    END AS detail
FROM records
