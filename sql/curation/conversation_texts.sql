-- sample_id and conversation text of every row of one pool file, in file order.
SELECT sample_id, conversation_text(messages) AS text
FROM read_parquet($path)
