-- Quarantine a conversation that this source already holds: earlier in this chunk, or in `seen`.
-- Input `canonical` (canonicalize.sql output) and `seen`; $file names the file being read.
WITH ranked AS (
    SELECT
        c.*,
        first_value(c.row) OVER (PARTITION BY c.sample_id ORDER BY c.row) AS first_row_here,
        s.file AS seen_file,
        s.row AS seen_row
    FROM canonical AS c
    LEFT JOIN seen AS s ON s.sample_id = c.sample_id
)
SELECT
    * EXCLUDE (first_row_here, seen_file, seen_row, reason, detail),
    CASE
        WHEN reason IS NULL AND (seen_row IS NOT NULL OR first_row_here < row) THEN 'duplicate'
        ELSE reason
    END AS reason,
    CASE
        WHEN reason IS NULL AND seen_row IS NOT NULL
            THEN 'same conversation as ' || seen_file || ' row ' || seen_row::VARCHAR
        WHEN reason IS NULL AND first_row_here < row
            THEN 'same conversation as ' || $file || ' row ' || first_row_here::VARCHAR
        ELSE detail
    END AS detail
FROM ranked
