"""Ingest the files of one source into two Parquet files: kept canonical samples and quarantined rows.

Every row read lands in exactly one of the two. The work is SQL (sql/ingest/*.sql) run by an in-memory
DuckDB over Arrow chunks, so memory stays bounded by the chunk size whatever the file size.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from instruct_assets.ingest.formats import Format, FormatNotDetected, detect_format
from instruct_assets.ingest.line_chunks import FileProblem, iter_line_chunks
from instruct_assets.ingest.parquet_sink import ParquetSink
from instruct_assets.ingest.read_ahead import read_ahead
from instruct_assets.ingest.schema import (
    DEFAULT_ROLE_ALIASES,
    QUARANTINE_DICTIONARY_COLUMNS,
    QUARANTINE_SCHEMA,
    RAW_POOL_DICTIONARY_COLUMNS,
    RAW_POOL_SCHEMA,
)
from instruct_assets.paths import read_sql

# The file names a source may hold; JSONL is read as plain or gzip by its content, not its name.
PARQUET_SUFFIXES = (".parquet",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
DATA_SUFFIXES = JSONL_SUFFIXES + PARQUET_SUFFIXES
PARQUET_BATCH_ROWS = 20_000
# DuckDB scans a registered Arrow table one record batch per task: a chunk held as one batch runs on one
# thread, so every table handed to DuckDB is cut into batches of this many rows (one DuckDB row group).
SCAN_BATCH_ROWS = 8_192


@dataclass(frozen=True)
class IngestSettings:
    max_row_bytes: int = 2_000_000
    chunk_bytes: int = 32 * 2**20
    quarantine_raw_chars: int = 65_536
    role_aliases: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ROLE_ALIASES))


@dataclass
class FileReport:
    file: str
    format: str | None
    rows_read: int = 0
    kept: int = 0
    blank_lines: int = 0


@dataclass
class IngestStats:
    rows_read: int = 0
    kept: int = 0
    quarantined: Counter = field(default_factory=Counter)
    blank_lines: int = 0
    files: list[FileReport] = field(default_factory=list)

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())


class SourceIngestor:
    """Reads one source's files, in the order given, into staged Parquet files.

    Use as a context manager; the files are complete only after a clean exit.
    """

    def __init__(self, source: str, kept_path: Path, quarantine_path: Path, settings: IngestSettings):
        self.source = source
        self.settings = settings
        self.stats = IngestStats()
        self._con = duckdb.connect()
        self._con.execute(read_sql("ingest/create_seen.sql"))
        self._role_map = {
            "aliases": [alias.lower() for alias in settings.role_aliases],
            "roles": list(settings.role_aliases.values()),
        }
        self._kept = ParquetSink(kept_path, RAW_POOL_SCHEMA, RAW_POOL_DICTIONARY_COLUMNS)
        self._quarantine = ParquetSink(quarantine_path, QUARANTINE_SCHEMA, QUARANTINE_DICTIONARY_COLUMNS)

    def _query(self, sql_file: str, **params) -> pa.Table:
        return self._con.sql(read_sql(sql_file), params=params or None).to_arrow_table(SCAN_BATCH_ROWS)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self._kept.close()
        finally:
            self._quarantine.close()
            self._con.close()

    def ingest_file(self, path: Path, file_ref: str, declared_format: Format | None = None) -> FileReport:
        """Ingest one file; `file_ref` is how source_ref names it (a path relative to the landing dir)."""
        report = FileReport(file=file_ref, format=declared_format and declared_format.value)
        self.stats.files.append(report)
        state = _FileState(file_ref, declared_format)
        name = path.name.lower()
        if name.endswith(PARQUET_SUFFIXES):
            self._ingest_parquet(path, state, report)
        else:
            self._ingest_jsonl(path, state, report)
        report.format = state.format.value if state.format else report.format
        return report

    def _ingest_jsonl(self, path: Path, state: "_FileState", report: FileReport) -> None:
        s = self.settings
        preview = s.quarantine_raw_chars
        chunks = read_ahead(iter_line_chunks(path, s.chunk_bytes, s.max_row_bytes, preview))
        stats = None
        for lines, stats in chunks:  # noqa: B007 (stats is read after the loop)
            self._con.register("lines", _in_scan_batches(lines))
            decoded = self._query("ingest/decode_lines.sql", max_row_bytes=s.max_row_bytes)
            self._con.unregister("lines")
            self._process(decoded, lines, state, report)
        if stats is not None:
            report.blank_lines = stats.blank_lines
            self.stats.blank_lines += stats.blank_lines
            for problem in stats.problems:
                self._write_problem(problem, state, report)

    def _ingest_parquet(self, path: Path, state: "_FileState", report: FileReport) -> None:
        reader_con = duckdb.connect()
        params = {"path": str(path), "max_row_bytes": self.settings.max_row_bytes}
        try:
            reader = reader_con.sql(read_sql("ingest/parquet_rows.sql"), params=params)
            for batch in reader.to_arrow_reader(PARQUET_BATCH_ROWS):
                self._process(_in_scan_batches(pa.Table.from_batches([batch])), None, state, report)
        except duckdb.Error as error:
            problem = FileProblem(report.rows_read + 1, "unreadable_file", f"Parquet read failed: {error}")
            self._write_problem(problem, state, report)
        finally:
            reader_con.close()

    def _process(
        self, decoded: pa.Table, lines: pa.Table | None, state: "_FileState", report: FileReport
    ) -> None:
        """Judge one chunk of decoded rows and write its kept and quarantined rows."""
        con = self._con
        con.register("decoded", decoded)
        if state.format is None and state.unknown_detail is None:
            try:
                state.format = detect_format(con)
            except FormatNotDetected as error:
                state.unknown_detail = f"{error} (file {state.file_ref})"
        if state.format is None:
            # Either no format fits, or no row has decoded to an object yet (then this yields no rows).
            canonical = self._query("ingest/mark_unknown_format.sql", detail=state.unknown_detail)
        else:
            con.execute(state.format.extract_sql)  # the view `extracted` over `decoded`
            canonical = self._query("ingest/canonicalize.sql", **self._role_map)
        con.register("canonical", canonical)
        duplicates = self._query("ingest/mark_duplicates.sql", file=state.file_ref)
        con.register("judged", _mark_duplicates(canonical, duplicates))
        con.execute(read_sql("ingest/remember_kept.sql"), {"file": state.file_ref})
        row_params = {
            "file": state.file_ref,
            "source": self.source,
            "format": state.format and state.format.value,
        }
        kept = self._query("ingest/kept_rows.sql", **row_params)
        quarantined = self._query(
            "ingest/quarantine_rows.sql", **row_params, raw_max_chars=self.settings.quarantine_raw_chars
        )
        for name in ("decoded", "canonical", "judged"):
            con.unregister(name)
        quarantined = _fill_raw_from_bytes(quarantined, lines, self.settings.quarantine_raw_chars)
        self._write(kept, quarantined, report, rows_in=decoded.num_rows)

    def _write_problem(self, problem: FileProblem, state: "_FileState", report: FileReport) -> None:
        """A whole-file problem is one pre-rejected row, judged like any other."""
        decoded = pa.table(
            {
                "row": pa.array([problem.row], pa.int64()),
                "raw_bytes": pa.array([len(problem.raw)], pa.int64()),
                "text": [problem.raw.decode("utf-8", "backslashreplace")],
                "reason": [problem.reason],
                "detail": [f"{problem.detail} (file {state.file_ref})"],
            }
        )
        self._process(decoded, None, state, report)

    def _write(self, kept: pa.Table, quarantined: pa.Table, report: FileReport, rows_in: int) -> None:
        kept_rows = kept.num_rows
        if kept_rows + quarantined.num_rows != rows_in:
            raise RuntimeError(
                f"row accounting broke in {report.file}: {rows_in} rows in, "
                f"{kept_rows} kept + {quarantined.num_rows} quarantined"
            )
        if kept_rows:
            self._kept.write(kept.cast(RAW_POOL_SCHEMA))
        if quarantined.num_rows:
            self._quarantine.write(quarantined.cast(QUARANTINE_SCHEMA))
            self.stats.quarantined.update(quarantined.column("reason").to_pylist())
        report.rows_read += rows_in
        report.kept += kept_rows
        self.stats.rows_read += rows_in
        self.stats.kept += kept_rows


@dataclass
class _FileState:
    file_ref: str
    format: Format | None
    unknown_detail: str | None = None


def _in_scan_batches(table: pa.Table) -> pa.Table:
    """`table` cut, without a copy, into record batches of SCAN_BATCH_ROWS that DuckDB scans in parallel."""
    return pa.Table.from_batches(table.to_batches(SCAN_BATCH_ROWS), table.schema)


def _mark_duplicates(canonical: pa.Table, duplicates: pa.Table) -> pa.Table:
    """`canonical` with reason 'duplicate' and the given detail on the rows `duplicates(row, detail)` lists.

    Done here rather than by a join in SQL, because a join does not keep the rows in file order.
    """
    if duplicates.num_rows == 0:
        return canonical
    position = pc.index_in(canonical.column("row"), value_set=duplicates.column("row"))
    is_duplicate = pc.is_valid(position)
    reason = pc.if_else(is_duplicate, "duplicate", canonical.column("reason"))
    detail = pc.if_else(
        is_duplicate, pc.take(duplicates.column("detail"), position), canonical.column("detail")
    )
    judged = canonical.set_column(canonical.schema.get_field_index("reason"), "reason", reason)
    return judged.set_column(canonical.schema.get_field_index("detail"), "detail", detail)


def _fill_raw_from_bytes(quarantined: pa.Table, lines: pa.Table | None, max_chars: int) -> pa.Table:
    """Give rows that were never decoded (invalid UTF-8, oversize) a readable `raw` from their bytes."""
    if lines is None or quarantined.num_rows == 0 or quarantined.column("raw").null_count == 0:
        return quarantined
    missing = pc.is_null(quarantined.column("raw"))
    wanted = set(
        pc.filter(quarantined.column("source_ref").combine_chunks().field("row"), missing).to_pylist()
    )
    by_row = {
        row: raw
        for row, raw in zip(lines.column("row").to_pylist(), lines.column("raw").to_pylist(), strict=True)
        if row in wanted
    }
    rows = quarantined.column("source_ref").combine_chunks().field("row").to_pylist()
    raws = quarantined.column("raw").to_pylist()
    filled = [
        raw
        if raw is not None
        else by_row[row][: max_chars * 4].decode("utf-8", "backslashreplace")[:max_chars]
        for row, raw in zip(rows, raws, strict=True)
    ]
    index = quarantined.schema.get_field_index("raw")
    return quarantined.set_column(index, "raw", pa.array(filled, pa.string()))
