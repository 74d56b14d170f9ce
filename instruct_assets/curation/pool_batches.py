"""Read a pool partition in bounded batches, with the curation stages' shared SQL macros loaded."""

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from instruct_assets.paths import read_sql

BATCH_ROWS = 20_000


def curation_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with `conversation_text(messages)` defined."""
    con = duckdb.connect()
    con.execute(read_sql("curation/conversation_text_macro.sql"))
    return con


def query_batches(sql_file: str, params: dict, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Stream the result of `sql/<sql_file>` in record batches of at most `batch_rows` rows."""
    with curation_connection() as con:
        reader = con.sql(read_sql(sql_file), params=params).to_arrow_reader(batch_rows)
        yield from reader


def conversation_batches(path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """`sample_id` and `text` (the conversation text) of every row of one pool file, in file order."""
    yield from query_batches("curation/conversation_texts.sql", {"path": str(path)}, batch_rows)
