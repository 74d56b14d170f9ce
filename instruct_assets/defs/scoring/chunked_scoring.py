"""Score the samples a cache lacks, chunk by chunk, logging progress and publishing each chunk."""

import time
from collections.abc import Callable

import dagster as dg
import polars as pl

from instruct_assets.scoring.score_cache import ScoreCache


def score_missing(
    context: dg.AssetExecutionContext,
    cache: ScoreCache,
    samples: pl.DataFrame,
    score_chunk: Callable[[pl.DataFrame], pl.DataFrame],
    chunk_rows: int,
    what: str,
) -> int:
    """Score the rows of `samples` (sample_id plus what `score_chunk` reads) that `cache` lacks; returns
    how many were scored. `score_chunk` returns one row of scores per input row, in order."""
    missing = cache.missing(samples["sample_id"])
    todo = samples.filter(pl.col("sample_id").is_in(missing.implode()))
    context.log.info(
        f"{what}: {samples.height - todo.height} of {samples.height} cached, scoring {todo.height}"
    )
    started = time.perf_counter()
    for offset in range(0, todo.height, chunk_rows):
        chunk = todo.slice(offset, chunk_rows)
        scores = score_chunk(chunk)
        cache.append(context.run_id, pl.concat([chunk.select("sample_id"), scores], how="horizontal"))
        done = offset + chunk.height
        elapsed = time.perf_counter() - started
        context.log.info(f"{what}: {done}/{todo.height} rows, {done / elapsed:.2f} rows/s")
    return todo.height
