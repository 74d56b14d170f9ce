-- Turn extracted rows into canonical conversations, or say why a row cannot be one.
-- Input: `extracted(row, turns, meta, reason, detail)` from an extract_<format>.sql.
-- $aliases / $roles: parallel lists mapping a source's role names (lower-cased) to system/user/assistant.
-- Content is normalized (CRLF -> LF, Unicode NFC, outer whitespace trimmed) before hashing, so the same
-- conversation read from two sources or formats gets one sample_id:
--   sample_id = md5 of the messages joined as role 0x1F content, messages separated by 0x1E.
-- Everything is per-row list work (no unnest, no grouping), so it streams at scan speed.
-- A row is kept only when reason IS NULL; checks run in the order of the CASE below and the first wins.
WITH mapped AS (
    SELECT
        row,
        meta,
        reason,
        detail,
        [{
            'raw_role': t.role,
            -- DuckDB's nfc_normalize cuts text at a NUL, so such a turn is rejected rather than shortened.
            'has_nul': contains(t.content, chr(0)),
            'role': map_extract_value(MAP($aliases, $roles), lower(trim(t.role))),
            'content': CASE
                -- Trimming is costly, so only turns with outer whitespace are trimmed, and by a regexp:
                -- it gives what trim(x, e' \t\n\r') gives (checked on every string of up to 4 characters
                -- from blanks, letters and NUL) at a fifth of the cost.
                WHEN t.content[1] IN (' ', e'\n', e'\t', e'\r') OR t.content[-1] IN (' ', e'\n', e'\t', e'\r')
                    THEN regexp_replace(
                        nfc_normalize(replace(t.content, e'\r\n', e'\n')), '^[ \t\n\r]+|[ \t\n\r]+$', '', 'g'
                    )
                ELSE nfc_normalize(replace(t.content, e'\r\n', e'\n'))
            END
        } FOR t IN turns] AS turns
    FROM extracted
),
summarized AS (
    SELECT
        *,
        [t.role FOR t IN turns] AS roles,
        list_bool_or([t.raw_role IS NULL OR t.content IS NULL FOR t IN turns]) AS has_missing_field,
        list_bool_or([t.has_nul FOR t IN turns]) AS has_nul,
        [t.raw_role FOR t IN turns IF t.role IS NULL AND t.raw_role IS NOT NULL][1] AS unknown_role,
        list_bool_or([t.content = '' FOR t IN turns]) AS has_empty_turn
    FROM mapped
),
located AS (
    SELECT
        *,
        list_position(roles, 'user') AS first_user_idx,
        list_position(roles, 'assistant') AS first_assistant_idx
    FROM summarized
),
judged AS (
    SELECT
        *,
        turns[first_user_idx].content AS prompt,
        turns[first_assistant_idx].content AS response,
        CASE
            WHEN reason IS NOT NULL THEN reason
            WHEN len(turns) = 0 THEN 'empty_conversation'
            WHEN has_missing_field THEN 'missing_field'
            WHEN has_nul THEN 'nul_character'
            WHEN unknown_role IS NOT NULL THEN 'unknown_role'
            WHEN first_user_idx IS NULL THEN 'no_prompt'
            WHEN first_assistant_idx IS NULL THEN 'no_response'
            WHEN first_assistant_idx < first_user_idx THEN 'leading_assistant_turn'
            WHEN turns[first_assistant_idx].content = '' THEN 'empty_response'
            WHEN has_empty_turn THEN 'empty_turn'
        END AS judged_reason
    FROM located
)
SELECT
    row,
    CASE WHEN judged_reason IS NULL THEN
        md5(array_to_string([t.role || chr(31) || t.content FOR t IN turns], chr(30)))
    END AS sample_id,
    -- A cast keeps the struct fields it names (by name), dropping raw_role without a lambda.
    turns::STRUCT(role VARCHAR, content VARCHAR)[] AS messages,
    prompt,
    response,
    len([r FOR r IN roles IF r = 'assistant'])::INTEGER AS turns,
    length(prompt)::INTEGER AS prompt_chars,
    length(response)::INTEGER AS response_chars,
    meta,
    judged_reason AS reason,
    CASE
        WHEN reason IS NOT NULL THEN detail
        WHEN len(turns) = 0 THEN 'the conversation has no turns'
        WHEN has_missing_field THEN 'a turn has no role or no text content'
        WHEN has_nul THEN 'a turn contains a NUL character (U+0000)'
        WHEN unknown_role IS NOT NULL THEN 'role "' || unknown_role || '" is not in role_aliases'
        WHEN first_user_idx IS NULL THEN 'no user turn'
        WHEN first_assistant_idx IS NULL THEN 'no assistant turn'
        WHEN first_assistant_idx < first_user_idx THEN 'an assistant turn comes before any user turn'
        WHEN judged_reason = 'empty_response' THEN 'the first assistant turn is empty'
        WHEN has_empty_turn THEN 'a turn is empty after trimming whitespace'
    END AS detail
FROM judged
