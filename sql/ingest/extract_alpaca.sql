-- Alpaca rows: {"instruction": "...", "input": "..." (optional), "output": "...", "system": "..." (optional)}.
-- The user turn is the instruction, then a blank line and the input when there is one (Alpaca's own layout).
-- Input table `decoded(row, text, reason)`, only rows with reason IS NULL are read.
-- Output `(row, turns LIST(STRUCT(role, content)), meta, reason, detail)`; meta keeps every other key.
WITH fields AS (
    SELECT
        row,
        text,
        text ->> '$.instruction' AS instruction,
        coalesce(text ->> '$.input', '') AS input,
        text ->> '$.output' AS output,
        text ->> '$.system' AS system
    FROM decoded
    WHERE reason IS NULL
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
