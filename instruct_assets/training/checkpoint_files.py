"""A checkpoint folder: the model and tokenizer as transformers saves them, plus what made them.

    model.safetensors, config.json, generation_config.json   the weights (fp32) and architecture
    tokenizer.json, tokenizer_config.json, ...                the tokenizer and its chat template
    training_config.json   every training setting, the base model and its weights fingerprint
    lineage.json           the data it saw: asset key, partition and data version of the training set,
                           the Dagster run, the checkpoint's own asset key, partition and data version
    train_log.parquet      one row per optimizer step (loss, learning rate, tokens, seconds)
    trained_samples.parquet  sample_id of every sample trained on, with its token counts

The folder is written under a temporary name beside its destination and renamed into place once
complete, so a killed run never leaves a folder that looks like a checkpoint but is not one. Any
folder-loading code (TransformersLM, vLLM, `from_pretrained`) loads it as a model.
"""

import json
import os
import shutil
import time
import uuid
from pathlib import Path

import polars as pl

LINEAGE_FILE = "lineage.json"
TRAINING_CONFIG_FILE = "training_config.json"
TRAIN_LOG_FILE = "train_log.parquet"
TRAINED_SAMPLES_FILE = "trained_samples.parquet"


def save_checkpoint(
    destination: Path,
    model,
    tokenizer,
    training_config: dict,
    lineage: dict,
    train_log: pl.DataFrame,
    trained_samples: pl.DataFrame,
) -> Path:
    """Write the checkpoint folder at `destination` (which must not exist yet) atomically."""
    destination = Path(destination)
    if destination.exists():
        raise FileExistsError(
            f"{destination}: a checkpoint is already there; checkpoints are never overwritten"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.parent / f".{destination.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / TRAINING_CONFIG_FILE).write_text(json.dumps(training_config, indent=2, sort_keys=True))
        (staging / LINEAGE_FILE).write_text(json.dumps(lineage, indent=2, sort_keys=True))
        train_log.write_parquet(staging / TRAIN_LOG_FILE)
        trained_samples.write_parquet(staging / TRAINED_SAMPLES_FILE)
        os.rename(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def read_lineage(checkpoint: Path) -> dict:
    return json.loads((Path(checkpoint) / LINEAGE_FILE).read_text())


def prune_versions(versions_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest checkpoint folders under `versions_dir`, and the staging folders
    of killed runs (untouched for an hour); returns what was removed. The asset's history still lists
    the removed versions, with their lineage and metrics in MLflow."""
    folders = sorted(
        (p for p in Path(versions_dir).iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    finished = [p for p in folders if not p.name.startswith(".")]
    stale = [p for p in folders if p.name.startswith(".") and time.time() - p.stat().st_mtime > 3600]
    removed = finished[keep:] + stale
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed
