-- The text of a conversation as the curation stages compare it: every turn's content, in order,
-- separated by a blank line (roles left out, so the same exchange in any format reads the same).
CREATE OR REPLACE TEMP MACRO conversation_text(messages) AS
    array_to_string(list_transform(messages, lambda m: m.content), chr(10) || chr(10));
