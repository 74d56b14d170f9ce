-- ShareGPT rows: {"conversations": [{"from": "human"|"gpt"|..., "value": "..."}, ...], ...}.
-- Input table `decoded(row, text, reason)`, only rows with reason IS NULL are read.
-- Output `(row, turns LIST(STRUCT(role, content)), meta, reason, detail)`; meta keeps every other key.
SELECT
    row,
    CASE WHEN json_type(text, '$.conversations') = 'ARRAY' THEN
        [{'role': t."from", 'content': t.value}
         FOR t IN json_transform(text -> '$.conversations', '[{"from": "VARCHAR", "value": "VARCHAR"}]')]
    END AS turns,
    json_merge_patch(text, '{"conversations": null}') AS meta,
    CASE
        WHEN json_type(text, '$.conversations') IS NULL THEN 'missing_field'
        WHEN json_type(text, '$.conversations') <> 'ARRAY' THEN 'wrong_type'
    END AS reason,
    CASE
        WHEN json_type(text, '$.conversations') IS NULL THEN 'no "conversations" key'
        WHEN json_type(text, '$.conversations') <> 'ARRAY'
            THEN '"conversations" is a JSON ' || json_type(text, '$.conversations') || ', expected an array'
    END AS detail
FROM decoded
WHERE reason IS NULL
