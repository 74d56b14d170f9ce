-- refusal: the response opens with a refusal or AI boilerplate ("I'm sorry, but I cannot ...").
-- Input: the view `filter_input`. Output: the failing rows (sample_id, detail, score); score is the
-- 1-based character position where the match starts.
-- $refusal_pattern: one RE2 alternation built from resources/filters/refusal_patterns.txt, with (?i).
-- $refusal_window_chars: only the opening is searched; a disclaimer deep in a long answer is not a refusal.
WITH opening AS (
    SELECT sample_id, left(response, $refusal_window_chars) AS head
    FROM filter_input
),
matched AS (
    SELECT sample_id, head, regexp_extract(head, $refusal_pattern) AS phrase
    FROM opening
    WHERE regexp_matches(head, $refusal_pattern)
)
SELECT
    sample_id,
    format(
        'response opens with refusal "{}" at char {} (refusal_window_chars {})',
        phrase, strpos(head, phrase), $refusal_window_chars
    ) AS detail,
    CAST(strpos(head, phrase) AS DOUBLE) AS score
FROM matched
