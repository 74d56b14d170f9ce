-- OpenAI chat rows: {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...], ...}.
-- Input table `decoded(row, text, reason)`, only rows with reason IS NULL are read.
-- Output `(row, turns LIST(STRUCT(role, content)), meta, reason, detail)`; meta keeps every other key.
SELECT
    row,
    CASE WHEN json_type(text, '$.messages') = 'ARRAY' THEN
        [{'role': t.role, 'content': t.content}
         FOR t IN json_transform(text -> '$.messages', '[{"role": "VARCHAR", "content": "VARCHAR"}]')]
    END AS turns,
    json_merge_patch(text, '{"messages": null}') AS meta,
    CASE
        WHEN json_type(text, '$.messages') IS NULL THEN 'missing_field'
        WHEN json_type(text, '$.messages') <> 'ARRAY' THEN 'wrong_type'
    END AS reason,
    CASE
        WHEN json_type(text, '$.messages') IS NULL THEN 'no "messages" key'
        WHEN json_type(text, '$.messages') <> 'ARRAY'
            THEN '"messages" is a JSON ' || json_type(text, '$.messages') || ', expected an array'
    END AS detail
FROM decoded
WHERE reason IS NULL
