"""The canonical sample schema and the quarantine schema, as Arrow schemas.

A canonical sample is one conversation: `messages` holds every turn (role in system/user/assistant,
content normalized); `prompt` and `response` are its first user turn and the assistant turn that answers
it; `turns` counts assistant turns. `source_ref` points at the file and 1-based row it came from.
"""

import pyarrow as pa

SOURCE_REF = pa.struct([("file", pa.string()), ("row", pa.int64())])
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])

RAW_POOL_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("source", pa.string()),
        ("source_ref", SOURCE_REF),
        ("format", pa.string()),
        ("messages", pa.list_(MESSAGE)),
        ("prompt", pa.string()),
        ("response", pa.string()),
        ("turns", pa.int32()),
        ("prompt_chars", pa.int32()),
        ("response_chars", pa.int32()),
        ("meta", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("quarantine_id", pa.string()),
        ("source", pa.string()),
        ("source_ref", SOURCE_REF),
        ("format", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("raw", pa.string()),
        ("raw_bytes", pa.int64()),
        ("sample_id", pa.string()),
    ]
)

# The Parquet columns whose values repeat, the only ones worth dictionary encoding when written.
RAW_POOL_DICTIONARY_COLUMNS = ["source", "source_ref.file", "format", "messages.list.element.role", "turns"]
QUARANTINE_DICTIONARY_COLUMNS = ["source", "source_ref.file", "format", "reason", "detail"]

# Role names seen in the wild, lower-cased, mapped to the three canonical roles. Anything else is
# quarantined as `unknown_role`; extend this through IngestConfig.role_aliases rather than here.
DEFAULT_ROLE_ALIASES: dict[str, str] = {
    "system": "system",
    "developer": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "assistant": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
}
