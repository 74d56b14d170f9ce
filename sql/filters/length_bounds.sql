-- length_bounds: the first exchange is too short to teach anything, or the conversation too long to train on.
-- Input: the view `filter_input` (canonical samples). Output: the failing rows (sample_id, detail, score);
-- score is the length that broke the first bound, checked in the order below.
-- $min_prompt_chars, $min_response_chars: a greeting ("hi") or an "Okay." has nothing to learn from.
-- $max_conversation_chars: all turns together; longer chats are truncated by any trainer's context.
-- prompt_chars/response_chars come from the ingest (characters of the trimmed turn). Lengths count
-- characters, not words: whitespace-split words undercount Chinese and Japanese text.
WITH measured AS (
    SELECT
        sample_id,
        prompt_chars,
        response_chars,
        list_sum([length(m.content) FOR m IN messages]) AS conversation_chars
    FROM filter_input
)
SELECT
    sample_id,
    CASE
        WHEN prompt_chars < $min_prompt_chars
            THEN format('prompt has {} chars < min_prompt_chars {}', prompt_chars, $min_prompt_chars)
        WHEN response_chars < $min_response_chars
            THEN format('response has {} chars < min_response_chars {}', response_chars, $min_response_chars)
        ELSE format(
            'conversation has {} chars > max_conversation_chars {}', conversation_chars, $max_conversation_chars
        )
    END AS detail,
    CAST(CASE
        WHEN prompt_chars < $min_prompt_chars THEN prompt_chars
        WHEN response_chars < $min_response_chars THEN response_chars
        ELSE conversation_chars
    END AS DOUBLE) AS score
FROM measured
WHERE prompt_chars < $min_prompt_chars
    OR response_chars < $min_response_chars
    OR conversation_chars > $max_conversation_chars
