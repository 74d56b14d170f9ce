"""Why a row is quarantined. Every quarantined row carries exactly one of these reasons."""

QUARANTINE_REASONS: dict[str, str] = {
    "unreadable_file": "the file could not be opened or decoded at all (corrupt Parquet, bad gzip header)",
    "truncated_gzip": "the gzip stream ends early; rows after the cut are lost (re-upload the file)",
    "oversize": "the line is longer than max_row_bytes",
    "invalid_utf8": "the line is not valid UTF-8",
    "invalid_json": "the line does not parse as JSON (truncated line, stray text)",
    "not_an_object": "the line is valid JSON but not an object",
    "unknown_format": "no known format fits the file's keys; set `format:` for the source",
    "missing_field": "a field the format needs is absent",
    "wrong_type": "a field has the wrong JSON type",
    "nul_character": "a turn contains U+0000, which text tools truncate at",
    "empty_conversation": "the conversation has no turns",
    "unknown_role": "a turn's role is not in role_aliases",
    "no_prompt": "the conversation has no user turn",
    "no_response": "the conversation has no assistant turn",
    "leading_assistant_turn": "an assistant turn comes before any user turn (a split conversation)",
    "empty_response": "the first assistant turn is empty",
    "empty_turn": "a turn is empty after trimming whitespace",
    "duplicate": "the same conversation appears earlier in this source (detail names the first row)",
}
