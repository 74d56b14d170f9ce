-- The SHA-256 digest (32 bytes) of each n-gram's UTF-8 text, in input order: DSIR's bucket hash.
SELECT unhex(sha256(ngram)) AS digest
FROM dsir_ngrams
