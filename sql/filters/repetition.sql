-- repetition: the response repeats itself (a generation loop), measured two ways as in Gopher/datatrove.
-- Input: the view `filter_input`. Output: the failing rows (sample_id, detail, score); score is the
-- duplicate-line ratio when that fails, else the repeated 5-gram ratio.
-- Duplicate lines: among the response's non-trivial lines (at least $min_line_chars characters once
-- trimmed, so the `}`, `</div>` and `end` lines of real code do not count), the share that repeat an
-- earlier one; measured only with at least $min_lines such lines. Fails above $max_duplicate_line_ratio.
-- Repeated 5-grams: the share of whitespace-separated word 5-grams that repeat an earlier one; measured
-- only with at least $min_words words. Fails above $max_repeated_ngram_ratio.
-- The 5 is fixed here, not a parameter: hashing five indexed words is 8x faster than hashing a list
-- slice of parameter length (1 s against 8 s for 10k ShareGPT responses).
WITH split AS (
    SELECT
        sample_id,
        [trim(line) FOR line IN string_split(response, e'\n') IF length(trim(line)) >= $min_line_chars] AS lines,
        string_split_regex(trim(response), '[\s\p{Z}]+') AS words
    FROM filter_input
),
measured AS (
    SELECT
        sample_id,
        len(lines) AS line_count,
        len(words) AS word_count,
        CASE WHEN len(lines) >= $min_lines THEN 1 - len(list_distinct(lines)) / len(lines) END
            AS duplicate_line_ratio,
        -- The CASE keeps the n-gram work, the costly part, to responses long enough to be measured.
        CASE WHEN len(words) >= $min_words THEN 1 - len(list_distinct(
            [hash(words[i], words[i + 1], words[i + 2], words[i + 3], words[i + 4])
             FOR i IN range(1, len(words) - 3)]
        )) / (len(words) - 4) END AS repeated_ngram_ratio
    FROM split
),
judged AS (
    SELECT
        *,
        coalesce(duplicate_line_ratio > $max_duplicate_line_ratio, false) AS too_many_duplicate_lines,
        coalesce(repeated_ngram_ratio > $max_repeated_ngram_ratio, false) AS too_many_repeated_ngrams
    FROM measured
)
SELECT
    sample_id,
    concat_ws('; ',
        CASE WHEN too_many_duplicate_lines THEN format(
            'duplicate-line ratio {:.3f} > max_duplicate_line_ratio {} ({} lines of >= {} chars)',
            duplicate_line_ratio, $max_duplicate_line_ratio, line_count, $min_line_chars
        ) END,
        CASE WHEN too_many_repeated_ngrams THEN format(
            'repeated 5-gram ratio {:.3f} > max_repeated_ngram_ratio {} ({} words)',
            repeated_ngram_ratio, $max_repeated_ngram_ratio, word_count
        ) END
    ) AS detail,
    CASE WHEN too_many_duplicate_lines THEN duplicate_line_ratio ELSE repeated_ngram_ratio END AS score
FROM judged
WHERE too_many_duplicate_lines OR too_many_repeated_ngrams
