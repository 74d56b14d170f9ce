-- The rows of `canonical` that repeat a conversation this source already holds: earlier in this chunk, or
-- in `seen`. Output `(row, detail)` for just those rows, in row order; the caller marks them 'duplicate'.
-- Only sample_id and row are read, so the window and the join stay narrow however long the conversations
-- are, and `canonical` itself is never reordered (kept rows leave in file order without a sort).
-- $file names the file being read. A row with a reason has no sample_id and is never a duplicate.
WITH candidates AS (
    SELECT row, sample_id, min(row) OVER (PARTITION BY sample_id) AS first_row_here
    FROM canonical
    WHERE reason IS NULL
)
SELECT
    c.row,
    CASE
        WHEN s.row IS NOT NULL THEN 'same conversation as ' || s.file || ' row ' || s.row::VARCHAR
        ELSE 'same conversation as ' || $file || ' row ' || c.first_row_here::VARCHAR
    END AS detail
FROM candidates AS c
LEFT JOIN seen AS s ON s.sample_id = c.sample_id
WHERE s.row IS NOT NULL OR c.first_row_here < c.row
ORDER BY c.row
