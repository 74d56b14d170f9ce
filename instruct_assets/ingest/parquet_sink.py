"""Append Arrow tables to one Parquet file from a background thread.

Compressing a chunk's rows costs about as much as judging them; pyarrow releases the GIL while it writes,
so a writer thread lets that overlap with the next chunk's SQL.
"""

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# Writes queued at most: bounds memory to this many chunks of rows waiting to be written.
MAX_PENDING_WRITES = 2


class ParquetSink:
    """A ParquetWriter fed in order by one background thread; `close` waits for every write."""

    def __init__(
        self, path: Path, schema: pa.Schema, dictionary_columns: list[str], compression: str = "zstd"
    ):
        # Dictionary encoding is tried only where values repeat (`dictionary_columns`, as Parquet column
        # paths): on long unique text it is given up after a page, and trying costs ~15% of the write.
        self._writer = pq.ParquetWriter(
            path, schema, compression=compression, use_dictionary=dictionary_columns
        )
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"parquet-{path.name}")
        self._pending: deque[Future] = deque()

    def write(self, table: pa.Table) -> None:
        """Queue `table`; a failed earlier write raises here (or at `close`)."""
        while len(self._pending) >= MAX_PENDING_WRITES:
            self._pending.popleft().result()
        self._pending.append(self._thread.submit(self._writer.write_table, table))

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._thread.shutdown(wait=True, cancel_futures=True)
            self._writer.close()
