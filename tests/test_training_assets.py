"""Checkpoints, the stage-2 set and evaluations, materialized for real on the small demo by the CLI (the
tiny random Llama as base model and judge: its scores mean nothing, every code path runs), with the
runs in a real MLflow store (SQLite under the demo's data dir)."""

import json
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml
from mlflow.tracking import MlflowClient

from instruct_assets.definitions import defs as load_defs
from instruct_assets.defs.resources import build_resources
from instruct_assets.models.model_files import folder_fingerprint
from instruct_assets.paths import PROJECT_ROOT
from tests.conftest import run_cli

METHODS = ["random", "rds_plus", "iterit", "coverage"]


def lake(data: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(data / "lake" / f"{name}.parquet")


def decisions(data: Path, stage: str, partition: str = "_all") -> pl.DataFrame:
    return pl.read_parquet(data / "lake" / "decisions" / stage / f"{partition}.parquet")


def latest_materialization(env: dict, key: str, partition: str | None = None):
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(key), asset_partitions=[partition] if partition else None
        ),
        limit=1,
    ).records
    return records[0].asset_materialization


def tracking_uri(env: dict) -> str:
    return f"sqlite:///{env['INSTRUCT_ASSETS_DATA_DIR']}/mlflow/mlflow.db"  # resources/env/local.yaml


def mlflow_runs(env: dict, role: str) -> list:
    client = MlflowClient(tracking_uri=tracking_uri(env))
    experiment = client.get_experiment_by_name("instruct-assets")
    return client.search_runs([experiment.experiment_id], f"tags.`instruct_assets.role` = '{role}'")


def test_checkpoint_f_trains_on_f_and_records_what_it_saw(materialized):
    env, data, _ = materialized
    row = lake(data, "checkpoint_f").row(0, named=True)
    folder = Path(row["checkpoint_dir"])
    assert {"model.safetensors", "config.json", "tokenizer.json", "training_config.json"} <= {
        p.name for p in folder.iterdir()
    }
    lineage = json.loads((folder / "lineage.json").read_text())
    f_version = latest_materialization(env, "foundational_set").tags["dagster/data_version"]
    assert lineage["training_sets"] == [
        {"asset_key": "foundational_set", "partition": None, "data_version": f_version}
    ]
    assert lineage["checkpoint"]["data_version"] == row["data_version"]
    assert latest_materialization(env, "checkpoint_f").tags["dagster/data_version"] == row["data_version"]
    assert json.loads((folder / "training_config.json").read_text())["max_length"] == 192
    # Every sample of F has a decision; the trained ones are the checkpoint's trained_samples.
    foundational = lake(data, "foundational_set")
    verdicts = decisions(data, "checkpoint_f")
    assert sorted(verdicts["sample_id"]) == sorted(foundational["sample_id"])
    trained = pl.read_parquet(folder / "trained_samples.parquet")
    assert sorted(verdicts.filter("kept")["sample_id"]) == sorted(trained["sample_id"])
    assert row["samples"] == trained.height and row["samples"] + row["skipped"] == foundational.height
    assert set(verdicts.filter(~pl.col("kept"))["reason"]) <= {"prompt_exceeds_max_length"}


def test_stage_two_continues_from_checkpoint_f_on_the_denoised_set(materialized):
    _, data, _ = materialized
    source = lake(data, "iterit_selection")
    kept = lake(data, "stage2_training_set")
    verdicts = decisions(data, "loss_difference")
    assert sorted(verdicts["sample_id"]) == sorted(source["sample_id"])
    assert sorted(verdicts.filter("kept")["sample_id"]) == sorted(kept["sample_id"])
    dropped = verdicts.filter(~pl.col("kept"))
    assert dropped.height > 0 and set(dropped["reason"]) <= {"loss_difference_outlier", "loss_not_finite"}
    outliers = kept["loss_difference"]
    dropped_values = dropped.filter(pl.col("reason") == "loss_difference_outlier")["score"]
    assert ((dropped_values < outliers.min()) | (dropped_values > outliers.max())).all()

    stage2 = lake(data, "checkpoint_stage2").row(0, named=True)
    lineage = json.loads((Path(stage2["checkpoint_dir"]) / "lineage.json").read_text())
    assert stage2["base_model"] == lake(data, "checkpoint_f")["checkpoint_dir"][0]
    assert lineage["base"]["asset_key"] == "checkpoint_f"
    assert lineage["training_sets"][0]["asset_key"] == "stage2_training_set"
    mixed = lake(data, "checkpoint_mixed").row(0, named=True)
    assert mixed["training_sets"] == ["foundational_set", "stage2_training_set"]
    f_row = lake(data, "checkpoint_f").row(0, named=True)
    assert mixed["samples"] == f_row["samples"] + stage2["samples"]


def test_one_checkpoint_per_selection_method_from_the_same_base(materialized):
    _, data, _ = materialized
    for method in METHODS:
        row = pl.read_parquet(data / "lake" / "selection_checkpoint" / f"{method}.parquet").row(0, named=True)
        trained = pl.read_parquet(Path(row["checkpoint_dir"]) / "trained_samples.parquet")
        selected = lake(data, f"{method}_selection")
        assert set(trained["sample_id"]) <= set(selected["sample_id"])
        assert row["samples"] + row["skipped"] == selected.height and row["method"] == method
        assert row["training_sets"] == [f"{method}_selection"]


def test_every_evaluation_is_an_mlflow_run_with_its_lineage(materialized):
    env, _, _ = materialized
    runs = mlflow_runs(env, "evaluation")
    by_asset = {
        (r.data.tags["instruct_assets.asset_key"], r.data.tags["instruct_assets.partition"]): r for r in runs
    }
    expected = {("eval_base", ""), ("eval_f", ""), ("eval_stage2", ""), ("eval_mixed", "")}
    expected |= {("selection_eval", method) for method in METHODS}
    assert set(by_asset) == expected
    for (asset, partition), run in by_asset.items():
        tags, metrics = run.data.tags, run.data.metrics
        materialization = latest_materialization(env, asset, partition or None)
        assert tags["instruct_assets.data_version"] == materialization.tags["dagster/data_version"]
        assert tags["instruct_assets.code_version"] == materialization.tags["dagster/code_version"]
        assert tags["dagster.run_id"]
        assert materialization.metadata["mlflow_run_id"].value == run.info.run_id
        assert {"dev_loss/instruction", "dev_loss/benchmarks_mean", "accuracy/mean", "judge/score"} <= set(
            metrics
        )
        assert 1.0 <= metrics["judge/score"] <= 5.0 and 0.0 <= metrics["accuracy/mean"] <= 1.0
        if asset != "eval_base":
            checkpoint = (
                "selection_checkpoint" if asset == "selection_eval" else asset.replace("eval_", "checkpoint_")
            )
            evaluated = latest_materialization(env, checkpoint, partition or None)
            assert tags["instruct_assets.checkpoint_data_version"] == evaluated.tags["dagster/data_version"]
        artifacts = {a.path for a in MlflowClient(tracking_uri(env)).list_artifacts(run.info.run_id)}
        assert "items.parquet" in artifacts
    assert by_asset[("selection_eval", "rds_plus")].data.tags["instruct_assets.method"] == "rds_plus"


def test_training_runs_log_the_loss_curve(materialized):
    env, _, _ = materialized
    runs = mlflow_runs(env, "training")
    assert len(runs) == 3 + len(METHODS)
    client = MlflowClient(tracking_uri(env))
    for run in runs:
        history = client.get_metric_history(run.info.run_id, "train/loss")
        assert len(history) == int(run.data.metrics["train/steps"]) > 0


def test_quality_command_prints_the_tables_from_the_runs(materialized):
    env, _, _ = materialized
    done = run_cli("report", "quality", env=env)
    assert done.returncode == 0, done.stderr
    for word in ("random", "rds_plus", "iterit", "coverage", "eval_stage2", "eval_mixed"):
        assert word in done.stdout


def test_audit_names_the_checkpoints_a_sample_trained(materialized):
    env, data, _ = materialized
    folder = Path(lake(data, "checkpoint_f")["checkpoint_dir"][0])
    sample = pl.read_parquet(folder / "trained_samples.parquet")["sample_id"][0]
    done = run_cli("audit", sample, env=env)
    assert done.returncode == 0, done.stderr
    assert "checkpoint_f: kept; trained checkpoint_f" in done.stdout


def test_the_gpu_run_config_fits_the_assets():
    run_config = yaml.safe_load((PROJECT_ROOT / "resources" / "run_config" / "training_gpu.yaml").read_text())
    job = load_defs().resolve_implicit_global_asset_job_def()
    assert dg.validate_run_config(job, run_config)
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(job, {"ops": {"checkpoint_f": {"config": {"precision": "fp8"}}}})


def test_iterit_next_epoch_rescores_with_the_checkpoint_trained_on_its_picks(
    materialized, tmp_path, monkeypatch
):
    """The IterIT loop across runs: epoch 0 selected, selection_checkpoint[iterit] trained on it, epoch 1
    re-scores the candidates with that checkpoint (named as an asset, not a folder)."""
    env, data, _ = materialized
    shutil.copytree(data, tmp_path / "data")
    monkeypatch.setenv("INSTRUCT_ASSETS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INSTRUCT_ASSETS_LLM_MODEL", env["INSTRUCT_ASSETS_LLM_MODEL"])
    checkpoint = pl.read_parquet(tmp_path / "data" / "lake" / "selection_checkpoint" / "iterit.parquet")
    caches = tmp_path / "data" / "lake" / "score_cache" / "llm"
    before = set(caches.iterdir())
    config = {"epoch": 1, "rescoring_checkpoint": "selection_checkpoint[iterit]"}
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [
                load_defs().get_assets_def("iterit_selection"),
                dg.AssetSpec("scored_pool"),
                dg.AssetSpec("foundational_set"),
            ],
            instance=instance,
            resources=build_resources(),
            run_config={"ops": {"iterit_selection": {"config": config}}},
        )
    assert result.success
    (new_cache,) = set(caches.iterdir()) - before
    assert new_cache.name.startswith(folder_fingerprint(checkpoint["checkpoint_dir"][0]))
    assert (pl.read_parquet(tmp_path / "data" / "lake" / "iterit_selection.parquet")["epoch"] == 1).all()
