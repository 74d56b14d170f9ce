-- The rows of the input files whose sample_id is in `chosen`, in file order, with the columns `chosen`
-- adds (all of its columns but sample_id). DuckDB streams the files and spills the sort if it must.
SELECT p.* EXCLUDE (filename, file_row_number), c.* EXCLUDE (sample_id)
FROM read_parquet($paths, filename = true, file_row_number = true) AS p
JOIN chosen AS c USING (sample_id)
ORDER BY p.filename, p.file_row_number
