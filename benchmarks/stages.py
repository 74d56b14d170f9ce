"""The two timed stages, each run alone in a fresh process: `python -m benchmarks.stages STAGE SOURCE OUT`.

The child times only the work (imports excluded) and prints one JSON line; its peak RSS is read by the
child itself (VmHWM, see measure.py), so the two stages never share a memory high-water mark.
"""

import sys
import time
from pathlib import Path

from benchmarks.measure import print_result


def reference(source: Path, out_dir: Path) -> dict:
    """Raw read speed: polars parses the whole file into a DataFrame, and nothing more."""
    import polars as pl

    start = time.perf_counter()
    frame = pl.read_ndjson(source)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": frame.height}


def ingest(source: Path, out_dir: Path) -> dict:
    """Our full ingest: decode, validate, normalize, hash, de-duplicate, write kept + quarantine Parquet."""
    from instruct_assets.ingest.source_ingest import IngestSettings, SourceIngestor

    out_dir.mkdir(parents=True, exist_ok=True)
    kept_path, quarantine_path = out_dir / "kept.parquet", out_dir / "quarantine.parquet"
    start = time.perf_counter()
    with SourceIngestor("benchmark", kept_path, quarantine_path, IngestSettings()) as ingestor:
        ingestor.ingest_file(source, source.name)
    seconds = time.perf_counter() - start
    stats = ingestor.stats
    return {
        "seconds": seconds,
        "rows": stats.rows_read,
        "kept": stats.kept,
        "quarantined": dict(stats.quarantined),
    }


STAGES = {"reference": reference, "ingest": ingest}

if __name__ == "__main__":
    stage, source, out_dir = sys.argv[1:4]
    print_result(STAGES[stage](Path(source), Path(out_dir)))
