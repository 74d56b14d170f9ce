"""Scores cached by (sample_id, model, code version), so a refresh scores only samples not scored before.

Layout: `<lake>/score_cache/<kind>/<scoring key>-<code version>/part-<run id>-<n>.parquet`. The directory
name is the key: a different model, precision, truncation or scoring code gets a directory of its own,
and old ones stay valid for their key. Each part is published with an atomic rename after every chunk,
so a killed run keeps what it finished and never leaves a half-written part.
"""

from pathlib import Path

import polars as pl

from instruct_assets.resources.lake import LakeResource


class ScoreCache:
    def __init__(self, lake: LakeResource, kind: str, key: str):
        self.lake = lake
        self.directory = lake.root / "score_cache" / kind / key
        self.parts = 0

    def paths(self) -> list[Path]:
        return sorted(self.directory.glob("*.parquet"))

    def scan(self) -> pl.LazyFrame | None:
        """Every cached row (a sample scored twice by racing runs appears once)."""
        paths = self.paths()
        return (
            pl.scan_parquet(paths).unique("sample_id", keep="first", maintain_order=True) if paths else None
        )

    def missing(self, sample_ids: pl.Series) -> pl.Series:
        """The ids in `sample_ids` with no cached score, in their order."""
        cached = self.scan()
        if cached is None:
            return sample_ids
        known = cached.select("sample_id").collect()["sample_id"]
        return sample_ids.filter(~sample_ids.is_in(known.implode()))

    def append(self, run_id: str, scores: pl.DataFrame) -> Path:
        self.parts += 1
        name = f"part-{run_id}-{self.parts:05d}.parquet"
        staged = self.lake.staging_path(run_id, f"score_cache.{self.directory.name}.{name}")
        scores.write_parquet(staged, compression="zstd")
        return self.lake.publish(staged, self.directory / name)
