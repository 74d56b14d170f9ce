-- Add this chunk's kept sample_ids to `seen`.
INSERT INTO seen SELECT sample_id, $file, row FROM judged WHERE reason IS NULL
