"""MLflowResource against real stores (a SQLite file, a loopback `mlflow server`), the quality tables built
from runs logged there, and `instruct-assets report quality`."""

import json
import math
import os
import sys
import urllib.request
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from mlflow.tracking import MlflowClient

from instruct_assets.cli.main import build_parser
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.plots import bar_figure
from instruct_assets.reporting.quality import quality_tables
from instruct_assets.resources import mlflow_tracking
from instruct_assets.resources.mlflow_tracking import MLflowResource, lineage_tags
from instruct_assets.settings import load_settings
from tests.conftest import run_cli
from tests.loopback_process import HOST, free_port, log_tail, start_in_own_group, stop_group, wait_until_ok


def sqlite_store(folder, experiment: str = "instruct-assets") -> MLflowResource:
    return MLflowResource(
        tracking_uri=f"sqlite:///{folder}/mlflow.db",
        artifact_location=str(folder / "artifacts"),
        experiment=experiment,
    )


def log_evaluation(store: MLflowResource, asset_key: str, partition: str | None, metrics: dict, samples=400):
    tags = lineage_tags(
        "evaluation", asset_key, partition, f"dv-{asset_key}-{partition or ''}", "eval-1", "dagster-run-1",
        checkpoint=f"ckpt-{asset_key}", method=partition or asset_key, training_samples=str(samples),
    )  # fmt: skip
    return store.record_run(f"eval {asset_key}", tags, params={"batch_size": 8}, metrics=metrics)


def test_record_run_logs_tags_params_metrics_steps_and_figures(tmp_path):
    store = sqlite_store(tmp_path)
    config = tmp_path / "train_config.json"
    config.write_text('{"lr": 2e-5}')
    tags = lineage_tags(
        "training", "selection_checkpoint", "random", "dv-1", "train-3", "dagster-run-7",
        checkpoint="selection_checkpoint[random]", training_set="random_selection", method="random",
    )  # fmt: skip
    run = store.record_run(
        "train selection_checkpoint[random]",
        tags,
        params={"learning_rate": 2e-5, "long": "x" * 7000, "nested": {"epochs": 1}},
        metrics={"train/last_loss": 1.25, "judge/score": float("nan")},
        step_metrics={"train/loss": [3.0, 2.5, math.inf, 2.0]},
        figures={"train_loss": bar_figure("loss", {"a": 1.0, "b": 2.0}, "loss")},
        artifacts={"config": config},
    )
    client = MlflowClient(tracking_uri=run.tracking_uri)
    logged = client.get_run(run.run_id)
    assert logged.info.status == "FINISHED"
    assert logged.info.run_name == "train selection_checkpoint[random]"
    assert {k: v for k, v in logged.data.tags.items() if not k.startswith("mlflow.")} == {
        **tags,
        "instruct_assets.skipped_metrics": "judge/score,train/loss",
    }
    assert logged.data.params["learning_rate"] == "2e-05"
    assert logged.data.params["nested"] == "{'epochs': 1}"
    assert len(logged.data.params["long"]) == 6000
    assert logged.data.metrics == {"train/last_loss": 1.25, "train/loss": 2.0}
    history = client.get_metric_history(run.run_id, "train/loss")
    assert [(m.step, m.value) for m in history] == [(0, 3.0), (1, 2.5), (3, 2.0)]
    assert run.skipped_metrics == ("judge/score", "train/loss")
    assert [f.path for f in client.list_artifacts(run.run_id, "plots")] == ["plots/train_loss.png"]
    assert [f.path for f in client.list_artifacts(run.run_id, "config")] == ["config/train_config.json"]
    png = client.download_artifacts(run.run_id, "plots/train_loss.png", str(tmp_path / "down"))
    assert Path(png).read_bytes()[:4] == b"\x89PNG"
    assert client.get_experiment(run.experiment_id).artifact_location == (tmp_path / "artifacts").as_uri()
    assert run.url == (
        f"mlflow ui --backend-store-uri sqlite:///{tmp_path}/mlflow.db, then open "
        f"http://127.0.0.1:5000/#/experiments/{run.experiment_id}/runs/{run.run_id}"
    )
    metadata = run.metadata()
    assert metadata["mlflow_run_id"] == dg.MetadataValue.text(run.run_id)
    assert metadata["mlflow_run"] == dg.MetadataValue.text(run.url)


def test_runs_lists_finished_runs_with_tags_and_metrics_as_columns_and_leaves_failed_out(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(mlflow_tracking, "PAGE_SIZE", 1)  # every search page and log_batch holds one item
    store = sqlite_store(tmp_path)
    assert store.runs().height == 0  # no experiment yet: no rows, and none created
    assert store.client().get_experiment_by_name("instruct-assets") is None
    evaluation = log_evaluation(store, "eval_f", None, {"dev_loss/instruction": 1.5, "accuracy/mean": 0.25})
    tags = lineage_tags("training", "checkpoint_f", None, "dv-f", "train-3", "dagster-run-2", method="stage1")
    training = store.record_run("train checkpoint_f", tags, params={}, metrics={"train/last_loss": 0.9})
    with pytest.raises(FileNotFoundError):
        store.record_run("broken", tags, {}, {"train/last_loss": 0.1}, artifacts={"x": tmp_path / "missing"})
    client = store.client()
    statuses = {r.info.run_name: r.info.status for r in client.search_runs([evaluation.experiment_id])}
    assert statuses == {"eval eval_f": "FINISHED", "train checkpoint_f": "FINISHED", "broken": "FAILED"}

    runs = store.runs()
    assert runs["run_id"].to_list() == [evaluation.run_id, training.run_id]
    assert runs.schema["start_time"] == pl.Datetime("ms", "UTC")
    assert runs.row(0, named=True) | {"start_time": None} == {
        "run_id": evaluation.run_id, "run_name": "eval eval_f", "start_time": None,
        "dagster_run_id": "dagster-run-1", "asset_key": "eval_f", "partition": "", "role": "evaluation",
        "data_version": "dv-eval_f-", "code_version": "eval-1", "checkpoint": "ckpt-eval_f",
        "method": "eval_f", "training_samples": "400", "accuracy/mean": 0.25,
        "dev_loss/instruction": 1.5, "train/last_loss": None,
    }  # fmt: skip
    only_training = store.runs(role="training")
    assert only_training["run_id"].to_list() == [training.run_id]
    assert only_training["train/last_loss"].to_list() == [0.9]
    with pytest.raises(ValueError, match="run role"):
        store.runs(role="train")


def test_paths_resolve_against_the_project_root_and_a_server_keeps_its_artifact_root():
    relative = MLflowResource(tracking_uri="sqlite:///data/mlflow/mlflow.db")
    assert relative.resolved_tracking_uri() == f"sqlite:///{PROJECT_ROOT}/data/mlflow/mlflow.db"
    assert relative.resolved_artifact_location() == (PROJECT_ROOT / "data/mlflow/artifacts").as_uri()
    server = MLflowResource(tracking_uri="http://mlflow:5000")
    assert server.resolved_tracking_uri() == "http://mlflow:5000"
    assert server.resolved_artifact_location() is None
    s3 = MLflowResource(tracking_uri="http://mlflow:5000", artifact_location="s3://bucket/runs")
    assert s3.resolved_artifact_location() == "s3://bucket/runs"
    assert MLflowResource(artifact_location="").resolved_artifact_location() is None


def test_settings_put_mlflow_under_the_data_dir_and_take_env_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTRUCT_ASSETS_DATA_DIR", str(tmp_path))
    assert load_settings().mlflow == {
        "tracking_uri": f"sqlite:///{tmp_path}/mlflow/mlflow.db",
        "artifact_location": f"{tmp_path}/mlflow/artifacts",
        "experiment": "instruct-assets",
    }
    monkeypatch.setenv("INSTRUCT_ASSETS_MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert load_settings("gpu").mlflow["tracking_uri"] == "http://mlflow:5000"
    monkeypatch.setenv("INSTRUCT_ASSETS_MLFLOW_TOKEN", "x")
    with pytest.raises(ValueError, match="INSTRUCT_ASSETS_MLFLOW_TOKEN: no such mlflow setting"):
        load_settings()


@pytest.fixture(scope="module")
def evaluation_store(tmp_path_factory) -> tuple[MLflowResource, dict]:
    """A SQLite store with the evaluations of a finished experiment, minus selection_eval[coverage] and
    eval_base, plus an older random evaluation and a training run that the tables must ignore."""
    store = sqlite_store(tmp_path_factory.mktemp("evaluations"))
    domains = {"dev_loss/math": 1.9, "dev_loss/code": 2.3}
    log_evaluation(store, "selection_eval", "random", {"dev_loss/instruction": 2.0, "accuracy/mean": 0.2})
    tags = lineage_tags("training", "selection_checkpoint", "random", "dv", "train-3", "dagster-run-1")
    store.record_run("train random", tags, {}, {"dev_loss/instruction": 9.0})
    runs = {
        "random": log_evaluation(
            store, "selection_eval", "random",
            {"dev_loss/instruction": 1.5, "dev_loss/benchmarks_mean": 2.0, "accuracy/mean": 0.25, **domains},
        ),
        "iterit": log_evaluation(
            store, "selection_eval", "iterit",
            {"dev_loss/instruction": 1.6, "dev_loss/benchmarks_mean": 2.0, "accuracy/mean": 0.25, **domains},
        ),
        "rds_plus": log_evaluation(
            store, "selection_eval", "rds_plus",
            {"dev_loss/instruction": 1.4, "dev_loss/benchmarks_mean": 2.125, "accuracy/mean": 0.3, **domains},
        ),
        "eval_f": log_evaluation(
            store, "eval_f", None, {"dev_loss/instruction": 1.75, "accuracy/mean": 0.25}
        ),
        "eval_stage2": log_evaluation(
            store, "eval_stage2", None, {"dev_loss/instruction": 1.25, "accuracy/mean": 0.375}, samples=600
        ),
        "eval_mixed": log_evaluation(
            store, "eval_mixed", None, {"dev_loss/instruction": 1.5, "accuracy/mean": 0.25}, samples=600
        ),
    }  # fmt: skip
    return store, {name: run.run_id for name, run in runs.items()}


def test_quality_tables_take_the_latest_run_and_compare_against_random_and_mixed(evaluation_store):
    store, run_ids = evaluation_store
    tables = quality_tables(store.runs(role="evaluation"))
    selection = tables.selection
    assert selection["method"].to_list() == ["random", "rds_plus", "iterit"]
    assert selection["run_id"].to_list() == [run_ids["random"], run_ids["rds_plus"], run_ids["iterit"]]
    assert selection["dev_loss/instruction"].to_list() == [1.5, 1.4, 1.6]  # the newer random run, not 2.0
    assert selection["data_version"][1] == "dv-selection_eval-rds_plus"
    assert selection["training_samples"].to_list() == [400, 400, 400]
    assert selection["Δ dev_loss/instruction"].to_list() == pytest.approx([0.0, -0.1, 0.1])
    assert selection["Δ dev_loss/benchmarks_mean"].to_list() == [0.0, 0.125, 0.0]
    assert selection["Δ accuracy/mean"].to_list() == pytest.approx([0.0, 0.05, 0.0])
    assert selection.columns.index("dev_loss/math") < selection.columns.index("accuracy/mean")
    assert tables.readout[:2] == [
        "rds_plus vs random: dev_loss/instruction -0.1000 (better), dev_loss/benchmarks_mean +0.1250 (worse),"
        " accuracy/mean +0.0500 (better)",
        "iterit vs random: dev_loss/instruction +0.1000 (worse), dev_loss/benchmarks_mean +0.0000 (equal),"
        " accuracy/mean +0.0000 (equal)",
    ]
    stages = tables.stages
    assert stages["asset_key"].to_list() == ["eval_f", "eval_stage2", "eval_mixed", "Δ"]
    assert stages["run_id"].to_list()[:3] == [run_ids[k] for k in ("eval_f", "eval_stage2", "eval_mixed")]
    assert stages.row(3, named=True)["dev_loss/instruction"] == -0.25
    assert stages.row(3, named=True)["accuracy/mean"] == 0.125
    assert tables.readout[2].startswith("two-stage vs mixed: dev_loss/instruction -0.2500 (better)")
    assert [line.split(":")[0] for line in tables.missing] == ["selection_eval[coverage]", "eval_base"]
    assert "dg launch --assets selection_eval --partition coverage" in tables.missing[0]


def test_report_quality_prints_both_tables_from_the_configured_store(evaluation_store, tmp_path):
    store, run_ids = evaluation_store
    env = {**os.environ, "INSTRUCT_ASSETS_MLFLOW_TRACKING_URI": store.tracking_uri}
    out = run_cli("report", "quality", env=env)
    assert out.returncode == 0, out.stderr
    assert "6 latest evaluations of 7 runs" in out.stdout
    assert "## Selection vs random at equal budget" in out.stdout
    assert "## Two-stage vs one mixed stage" in out.stdout
    rds_plus_row = next(line for line in out.stdout.splitlines() if line.startswith("| rds_plus |"))
    assert (
        "| 1.4000 |" in rds_plus_row and "| -0.1000 |" in rds_plus_row and run_ids["rds_plus"] in rds_plus_row
    )
    assert "| Δ | two-stage minus mixed |" in out.stdout
    assert "- selection_eval[coverage]: no finished evaluation run" in out.stdout

    empty = {**os.environ, "INSTRUCT_ASSETS_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/empty.db"}
    out = run_cli("report", "quality", env=empty)
    assert out.returncode == 1
    assert "no finished evaluation runs in experiment 'instruct-assets'" in out.stderr


def test_report_without_argument_is_still_the_funnel():
    assert build_parser().parse_args(["report"]).what == "funnel"
    assert build_parser().parse_args(["report", "quality"]).what == "quality"


@pytest.fixture
def mlflow_server(tmp_path):
    """`mlflow server` on loopback with proxied artifacts in tmp_path/artifacts; always stopped."""
    port, log = free_port(), tmp_path / "mlflow-server.log"
    command = [
        sys.executable, "-m", "mlflow", "server", "--host", HOST, "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{tmp_path}/server.db",
        "--artifacts-destination", str(tmp_path / "artifacts"),
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    server = start_in_own_group(command, PROJECT_ROOT, env, log)
    try:
        wait_until_ok(f"http://{HOST}:{port}/health", server, log, timeout_s=90, what="mlflow server")
        yield f"http://{HOST}:{port}", tmp_path / "artifacts"
    finally:
        stop_group(server, grace_s=10)
        print(log_tail(log, 2000))


@pytest.mark.slow
def test_record_run_through_a_tracking_server(mlflow_server):
    url, artifacts_destination = mlflow_server
    store = MLflowResource(tracking_uri=url)  # the default artifact path is ignored for a server
    tags = lineage_tags(
        "evaluation", "eval_f", None, "dv-f", "eval-1", "dagster-run-3", checkpoint="checkpoint_f"
    )
    run = store.record_run(
        "eval checkpoint_f", tags, params={"batch_size": 8}, metrics={"dev_loss/instruction": 1.5},
        figures={"dev_loss": bar_figure("dev loss", {"math": 1.9}, "NLL per token")},
    )  # fmt: skip
    assert run.url == f"{url}/#/experiments/{run.experiment_id}/runs/{run.run_id}"
    assert run.metadata()["mlflow_run"] == dg.MetadataValue.url(run.url)
    with urllib.request.urlopen(f"{url}/api/2.0/mlflow/runs/get?run_id={run.run_id}", timeout=10) as response:
        served = json.load(response)["run"]
    assert served["info"]["status"] == "FINISHED"
    assert {"key": "instruct_assets.asset_key", "value": "eval_f"} in served["data"]["tags"]
    client = MlflowClient(tracking_uri=url)
    assert client.get_experiment(run.experiment_id).artifact_location.startswith("mlflow-artifacts:")
    assert [f.path for f in client.list_artifacts(run.run_id, "plots")] == ["plots/dev_loss.png"]
    on_disk = list(artifacts_destination.rglob("dev_loss.png"))
    assert len(on_disk) == 1 and on_disk[0].read_bytes()[:4] == b"\x89PNG"
    assert store.runs(role="evaluation")["dev_loss/instruction"].to_list() == [1.5]
