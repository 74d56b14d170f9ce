-- ShareGPT rows: {"conversations": [{"from": "human"|"gpt"|..., "value": "..."}, ...], ...}.
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
        json_transform(text, '{"conversations": [{"from": "VARCHAR", "value": "VARCHAR"}]}').conversations
            AS conversations
    FROM decoded
    WHERE reason IS NULL
)
SELECT
    row,
    CASE
        WHEN conversations IS NOT NULL THEN [{'role': t."from", 'content': t.value} FOR t IN conversations]
        WHEN json_type(text, '$.conversations') = 'ARRAY' THEN
            [{'role': t."from", 'content': t.value}
             FOR t IN json_transform(text -> '$.conversations', '[{"from": "VARCHAR", "value": "VARCHAR"}]')]
    END AS turns,
    json_merge_patch(text, '{"conversations": null}') AS meta,
    CASE
        WHEN conversations IS NOT NULL THEN NULL
        WHEN json_type(text, '$.conversations') IS NULL THEN 'missing_field'
        WHEN json_type(text, '$.conversations') <> 'ARRAY' THEN 'wrong_type'
    END AS reason,
    CASE
        WHEN conversations IS NOT NULL THEN NULL
        WHEN json_type(text, '$.conversations') IS NULL THEN 'no "conversations" key'
        WHEN json_type(text, '$.conversations') <> 'ARRAY'
            THEN '"conversations" is a JSON ' || json_type(text, '$.conversations') || ', expected an array'
    END AS detail
FROM parsed
