-- OpenAI chat rows: {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...], ...}.
-- `content` is a string, or an array of content parts: its text parts are joined by newlines, and a turn
-- with any other part (image, audio, file) has no text content, so canonicalize.sql quarantines the row.
-- Input table `decoded(row, text, reason)`, only rows with reason IS NULL are read.
-- Output: the view `extracted(row, turns LIST(STRUCT(role, content)), meta, reason, detail)`; meta keeps
-- every other key.
-- Every JSON function parses the whole row: the turns come from one json_transform of the row, and the
-- key's type is looked up (more parses) only where that finds no array, which is a rejected row.
-- A view, so the rows stream from `decoded` straight into canonicalize.sql and are never held as a table.
CREATE OR REPLACE TEMP VIEW extracted AS
WITH parsed AS (
    SELECT
        row,
        text,
        json_transform(text, '{"messages": [{"role": "VARCHAR", "content": "JSON"}]}').messages AS messages
    FROM decoded
    WHERE reason IS NULL
),
checked AS (
    SELECT
        row,
        CASE
            WHEN messages IS NOT NULL THEN messages
            WHEN json_type(text, '$.messages') = 'ARRAY' THEN
                json_transform(text -> '$.messages', '[{"role": "VARCHAR", "content": "JSON"}]')
        END AS json_turns,
        json_merge_patch(text, '{"messages": null}') AS meta,
        CASE
            WHEN messages IS NOT NULL THEN NULL
            WHEN json_type(text, '$.messages') IS NULL THEN 'missing_field'
            WHEN json_type(text, '$.messages') <> 'ARRAY' THEN 'wrong_type'
        END AS reason,
        CASE
            WHEN messages IS NOT NULL THEN NULL
            WHEN json_type(text, '$.messages') IS NULL THEN 'no "messages" key'
            WHEN json_type(text, '$.messages') <> 'ARRAY'
                THEN '"messages" is a JSON ' || json_type(text, '$.messages') || ', expected an array'
        END AS detail
    FROM parsed
)
SELECT
    row,
    [{
        'role': t.role,
        'content': CASE json_type(t.content)
            WHEN 'VARCHAR' THEN t.content ->> '$'
            WHEN 'ARRAY' THEN CASE
                WHEN json_array_length(t.content) > 0
                    AND list_bool_and([p ->> '$.type' = 'text' FOR p IN json_transform(t.content, '["JSON"]')])
                THEN array_to_string([p ->> '$.text' FOR p IN json_transform(t.content, '["JSON"]')], e'\n')
            END
        END
    } FOR t IN json_turns] AS turns,
    meta,
    reason,
    detail
FROM checked
