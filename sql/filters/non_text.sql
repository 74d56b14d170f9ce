-- non_text: the prompt or the response is mostly symbols (ASCII art, separator soup, emoji, binary-ish junk).
-- Input: the view `filter_input`. Output: the failing rows (sample_id, detail, score); score is the higher
-- of the two ratios.
-- Ratio = characters that are neither letters, marks, digits nor whitespace, over all characters. RE2's
-- \s is ASCII-only, so Unicode spaces come in through \p{Z}. Real code sits well under the default
-- threshold: its indentation and identifiers dilute the braces (99.9% of ShareGPT code answers <= 0.45).
-- Base64 and hex dumps are letters and digits, so this rule does not see them.
WITH measured AS (
    SELECT
        sample_id,
        length(regexp_replace(prompt, '[\p{L}\p{M}\p{N}\s\p{Z}]+', '', 'g')) / greatest(length(prompt), 1)
            AS prompt_ratio,
        length(regexp_replace(response, '[\p{L}\p{M}\p{N}\s\p{Z}]+', '', 'g')) / greatest(length(response), 1)
            AS response_ratio
    FROM filter_input
)
SELECT
    sample_id,
    CASE
        WHEN response_ratio >= prompt_ratio THEN format(
            'response non-text ratio {:.3f} > max_non_text_ratio {}', response_ratio, $max_non_text_ratio
        )
        ELSE format('prompt non-text ratio {:.3f} > max_non_text_ratio {}', prompt_ratio, $max_non_text_ratio)
    END AS detail,
    greatest(prompt_ratio, response_ratio) AS score
FROM measured
WHERE greatest(prompt_ratio, response_ratio) > $max_non_text_ratio
