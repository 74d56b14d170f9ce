-- Alpaca rows: {"instruction": "...", "input": "..." (optional), "output": "...", "system": "..." (optional)}.
-- The user turn is the instruction, then a blank line and the input when there is one (Alpaca's own layout).
-- Input table `decoded(row, text, reason)`, only rows with reason IS NULL are read.
-- Output: the view `extracted(row, turns LIST(STRUCT(role, content)), meta, reason, detail)`; meta keeps
-- every other key.
-- One json_transform reads the four fields in one parse of the row (each ->> would parse it again); a
-- field that is not a string comes out as its JSON text, as ->> gives it.
-- A view, so the rows stream from `decoded` straight into canonicalize.sql and are never held as a table.
CREATE OR REPLACE TEMP VIEW extracted AS
WITH parsed AS (
    SELECT
        row,
        text,
        json_transform(
            text, '{"instruction": "VARCHAR", "input": "VARCHAR", "output": "VARCHAR", "system": "VARCHAR"}'
        ) AS field
    FROM decoded
    WHERE reason IS NULL
),
fields AS (
    SELECT
        row,
        text,
        field.instruction AS instruction,
        coalesce(field.input, '') AS input,
        field.output AS output,
        field.system AS system
    FROM parsed
)
SELECT
    row,
    CASE WHEN system IS NOT NULL AND trim(system) <> '' THEN [{'role': 'system', 'content': system}] ELSE [] END
    || [
        {'role': 'user',
         'content': CASE WHEN trim(input) = '' THEN instruction ELSE instruction || e'\n\n' || input END},
        {'role': 'assistant', 'content': output}
    ] AS turns,
    json_merge_patch(text, '{"instruction": null, "input": null, "output": null, "system": null}') AS meta,
    CASE WHEN instruction IS NULL OR output IS NULL THEN 'missing_field' END AS reason,
    CASE
        WHEN instruction IS NULL THEN 'no "instruction" string'
        WHEN output IS NULL THEN 'no "output" string'
    END AS detail
FROM fields
