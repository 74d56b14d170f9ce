"""Exact and near deduplication of new rows against themselves and an index of rows already kept.

Rows already kept (the reference) always survive: a new source never revokes a decision made before
it, so a checkpoint trained on a kept row stays auditable. Among new rows, the survivor of a cluster is
chosen by the survivor order (default: source priority, then the longest conversation, then the row
seen first). Every dropped row names the row it duplicates (`dup_of`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from instruct_assets.curation.clusters import near_duplicate_of
from instruct_assets.curation.minhash import MinHashSettings

# What a survivor-order name sorts by: (column, descending).
SURVIVOR_KEYS = {
    "source_priority": ("priority", True),
    "longest": ("chars", True),
    "first_seen": ("seen", False),
}
INDEX_COLUMNS = ["sample_id", "source", "priority", "chars", "seen", "exact_key", "has_shingles", "band_keys"]
VERDICT_SCHEMA = {
    "sample_id": pl.String,
    "kept": pl.Boolean,
    "reason": pl.String,
    "detail": pl.String,
    "score": pl.Float64,
    "ref_id": pl.String,
}


@dataclass(frozen=True)
class DedupSettings:
    minhash: MinHashSettings = field(default_factory=MinHashSettings)
    survivor_order: tuple[str, ...] = ("source_priority", "longest", "first_seen")
    near: bool = True  # False: exact dedup only

    def __post_init__(self) -> None:
        unknown = [name for name in self.survivor_order if name not in SURVIVOR_KEYS]
        if unknown:
            raise ValueError(f"unknown survivor_order {unknown}; use any of {sorted(SURVIVOR_KEYS)}")


def rank_rows(candidates: pl.DataFrame, reference: pl.DataFrame, order: Sequence[str]) -> pl.DataFrame:
    """Reference rows first, then candidates in survivor order; `row` is the position in that order."""
    columns = [SURVIVOR_KEYS[name][0] for name in order] + ["source", "seen"]
    descending = [SURVIVOR_KEYS[name][1] for name in order] + [False, False]
    ranked = pl.concat(
        [
            reference.select(INDEX_COLUMNS).with_columns(is_reference=pl.lit(True)),
            candidates.select(INDEX_COLUMNS).with_columns(is_reference=pl.lit(False)),
        ],
        how="vertical_relaxed",
    ).sort(["is_reference", *columns], descending=[True, *descending], maintain_order=True)
    return ranked.with_row_index("row")


def dedup_verdicts(
    candidates: pl.DataFrame, reference: pl.DataFrame, settings: DedupSettings
) -> pl.DataFrame:
    """One verdict per candidate row: kept, or dropped as `exact_duplicate` / `near_duplicate` with
    `ref_id` = the sample_id it duplicates and `score` = the share of LSH bands the two have in common.

    Both frames have INDEX_COLUMNS; `band_keys` is an Array(UInt64, bands) of the same layout.
    """
    ranked = rank_rows(candidates, reference, settings.survivor_order)
    # Exact: the first row of each normalized-text hash survives.
    exact_head = (
        ranked.select(pl.col("row").first().over("exact_key")).to_series().to_numpy().astype(np.int64)
    )
    exact_dup = exact_head != np.arange(len(ranked))
    dup_of = np.where(exact_dup, exact_head, -1)

    bands = settings.minhash.layout()[0]
    keys = ranked["band_keys"].to_numpy().reshape(len(ranked), bands)
    if settings.near and len(ranked):
        eligible = ranked["has_shingles"].to_numpy() & ~exact_dup
        near_dup = near_duplicate_of(keys, eligible)
        dup_of = np.where(dup_of >= 0, dup_of, near_dup)
    near_dup_mask = (dup_of >= 0) & ~exact_dup

    shared = np.zeros(len(ranked))
    if near_dup_mask.any():
        rows = np.flatnonzero(near_dup_mask)
        shared[rows] = (keys[rows] == keys[dup_of[rows]]).sum(axis=1) / keys.shape[1]
    dup = pl.col("dup_of") >= 0
    verdicts = ranked.select("sample_id", "source", "seen", "is_reference").with_columns(
        dup_of=pl.Series(dup_of), exact=pl.Series(exact_dup), shared=pl.Series(shared)
    )
    survivors = verdicts.select(
        ref_row=pl.int_range(pl.len(), dtype=pl.Int64), ref_id="sample_id", ref_source="source"
    )
    return (
        verdicts.filter(~pl.col("is_reference"))
        .join(survivors, left_on="dup_of", right_on="ref_row", how="left", maintain_order="left")
        .sort("seen")
        .with_columns(
            kept=~dup,
            reason=pl.when(pl.col("exact"))
            .then(pl.lit("exact_duplicate"))
            .when(dup)
            .then(pl.lit("near_duplicate")),
            score=pl.when(pl.col("exact")).then(1.0).when(dup).then(pl.col("shared")),
            detail=pl.when(pl.col("exact"))
            .then(pl.format("same normalized text as {} ({})", "ref_id", "ref_source"))
            .when(dup)
            .then(
                pl.format(
                    "near duplicate of {} ({}); shares {}% of LSH bands",
                    "ref_id",
                    "ref_source",
                    (pl.col("shared") * 100).round(0).cast(pl.Int64),
                )
            ),
        )
        .select(list(VERDICT_SCHEMA))
        .cast(VERDICT_SCHEMA)
    )
