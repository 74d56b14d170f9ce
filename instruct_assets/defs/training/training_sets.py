"""The sets checkpoints train on: F, a selection of F, or the stage-2 set, as rows with conversations."""

import dagster as dg
import polars as pl

from instruct_assets.defs.selection.publishing import FOUNDATIONAL_SET
from instruct_assets.resources.lake import LakeResource

SELECTION_METHODS = ("random", "rds_plus", "iterit", "coverage")
SELECTIONS = {method: dg.AssetKey(f"{method}_selection") for method in SELECTION_METHODS}
STAGE2_TRAINING_SET = dg.AssetKey("stage2_training_set")
CHECKPOINT_F = dg.AssetKey("checkpoint_f")

selection_methods = dg.StaticPartitionsDefinition(list(SELECTION_METHODS))


def training_samples(lake: LakeResource, key: dg.AssetKey) -> pl.DataFrame:
    """sample_id, source, source_ref, messages of every sample of `key` (F itself or a subset of F)."""
    foundational = pl.scan_parquet(lake.asset_path(FOUNDATIONAL_SET)).select(
        "sample_id", "source", "source_ref", "dsir_domain", "messages"
    )
    if key == FOUNDATIONAL_SET:
        return foundational.collect()
    path = lake.asset_path(key)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {key.to_user_string()} is not materialized; materialize it first")
    members = pl.scan_parquet(path).select("sample_id")
    return members.join(foundational, on="sample_id", how="left", maintain_order="left").collect()
