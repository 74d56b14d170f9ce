-- language: the conversation is confidently in a language that is not allowed.
-- Input: the view `filter_input` with `language` and `language_score` (fastText lid.176 on the prompt and
-- response prose, computed in Python). Output: the failing rows (sample_id, detail, score = language_score).
-- $languages: allowed ISO 639 codes; an empty list allows every language.
-- $min_language_score: the score from which a detection is trusted. Under it a row is "unidentified", and
-- fails only if $drop_unidentified_language: on ShareGPT, those rows are mostly English questions about
-- pasted code, which the model cannot place.
SELECT
    sample_id,
    CASE
        WHEN language_score < $min_language_score THEN format(
            'language unidentified: {} at score {:.3f} < min_language_score {}',
            language, language_score, $min_language_score
        )
        ELSE format('language {} (score {:.3f}) not in languages {}', language, language_score, $languages)
    END AS detail,
    language_score AS score
FROM filter_input
WHERE CASE
    WHEN language_score < $min_language_score THEN $drop_unidentified_language
    ELSE len($languages) > 0 AND NOT list_contains($languages, language)
END
