"""The dedup index rows of one raw_pool partition: ranks, exact key and LSH band keys, no text."""

from pathlib import Path

import polars as pl

from instruct_assets.curation.dedup import INDEX_COLUMNS
from instruct_assets.curation.minhash import MinHashSettings, band_keys
from instruct_assets.curation.pool_batches import query_batches

# Shingling holds ~8x a batch's text in temporaries; 5k conversations (~15 MB of text) is as fast as 20k
# and keeps the stage's peak memory a third lower (benchmarks/README.md, near dedup).
BATCH_ROWS = 5_000

INDEX_SCHEMA = {
    "sample_id": pl.String,
    "source": pl.String,
    "priority": pl.Int32,
    "chars": pl.Int64,
    "seen": pl.Int64,
    "exact_key": pl.String,
    "has_shingles": pl.Boolean,
}  # + band_keys: Array(UInt64, bands)


def index_rows(
    raw_path: Path, priority: int, settings: MinHashSettings, batch_rows: int = BATCH_ROWS
) -> pl.DataFrame:
    """One row per conversation of `raw_path` (INDEX_COLUMNS), `seen` = its row in the file; memory
    holds one batch of text at a time and the band keys of all rows."""
    frames = []
    params = {"path": str(raw_path), "priority": priority}
    for batch in query_batches("curation/dedup_rows.sql", params, batch_rows):
        frame = pl.from_arrow(batch)
        keys, has_shingles = band_keys(frame["text"], settings)
        frames.append(
            frame.drop("text").with_columns(
                has_shingles=pl.Series(has_shingles),
                band_keys=pl.Series(keys, dtype=pl.Array(pl.UInt64, keys.shape[1])),
            )
        )
    if not frames:
        bands = pl.Array(pl.UInt64, settings.layout()[0])
        return pl.DataFrame(schema={**INDEX_SCHEMA, "band_keys": bands})
    return pl.concat(frames).select(INDEX_COLUMNS).cast(INDEX_SCHEMA)
