"""MLflow tracking for checkpoints and evaluations: one MLflow run per materialization, logged through an
`MlflowClient` (never the fluent API's global active run, so concurrent assets and threads cannot log
into each other's runs), and read back as one polars row per run for the quality table.

mlflow is imported inside the methods: loading the Dagster definitions does not pay for it.
"""

import contextlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import polars as pl

from instruct_assets.paths import resolve_project_path
from instruct_assets.resources.run_tags import (
    DAGSTER_RUN_ID,
    ROLE,
    ROLES,
    SKIPPED_METRICS,
    TAG_PREFIX,
    lineage_tags,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from mlflow.tracking import MlflowClient

__all__ = ["MLflowResource", "RecordedRun", "lineage_tags"]

SQLITE_PREFIX = "sqlite:///"
SERVER_SCHEMES = ("http://", "https://")
LOCAL_UI = "http://127.0.0.1:5000"  # where `mlflow ui` serves by default
PAGE_SIZE = 1000


def is_server_uri(tracking_uri: str) -> bool:
    return tracking_uri.startswith(SERVER_SCHEMES)


@dataclass(frozen=True)
class RecordedRun:
    """One finished MLflow run, as an asset's materialization metadata points at it."""

    run_id: str
    experiment_id: str
    experiment: str
    tracking_uri: str
    skipped_metrics: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The run's page on a tracking server; for a local store, how to open the same page with
        `mlflow ui` (a command and a URL, not a link that works by itself)."""
        page = f"#/experiments/{self.experiment_id}/runs/{self.run_id}"
        if is_server_uri(self.tracking_uri):
            return f"{self.tracking_uri.rstrip('/')}/{page}"
        return f"mlflow ui --backend-store-uri {self.tracking_uri}, then open {LOCAL_UI}/{page}"

    def metadata(self) -> dict[str, dg.MetadataValue]:
        """mlflow_run_id, mlflow_experiment, and mlflow_run: a URL for a server, a text hint otherwise."""
        link = dg.MetadataValue.url(self.url) if is_server_uri(self.tracking_uri) else None
        return {
            "mlflow_run_id": dg.MetadataValue.text(self.run_id),
            "mlflow_experiment": dg.MetadataValue.text(self.experiment),
            "mlflow_run": link or dg.MetadataValue.text(self.url),
        }


class MLflowResource(dg.ConfigurableResource):
    """Where runs are logged: a tracking URI (a local SQLite file by default; any MLflow URI by config,
    e.g. http://mlflow:5000 or postgresql://...) and one experiment, created on first use.

    Guarantees: a run that `record_run` returns is FINISHED with everything logged; a run whose logging
    failed is FAILED and left out of `runs()`. A server's token is read by MLflow itself from
    MLFLOW_TRACKING_TOKEN (or MLFLOW_TRACKING_USERNAME / _PASSWORD); no field holds it.
    """

    tracking_uri: str = "sqlite:///data/mlflow/mlflow.db"
    # Artifact root of a NEW experiment. A relative or absolute path is a folder on this machine (taken
    # from the project root), used with a local store only: with an http(s) server a path is ignored and
    # the server's default applies (e.g. `--artifacts-destination`). A URI (s3://, file://) is used as is.
    # None or "": MLflow's default.
    artifact_location: str | None = "data/mlflow/artifacts"
    experiment: str = "instruct-assets"

    def resolved_tracking_uri(self) -> str:
        """The tracking URI with a relative SQLite path made absolute (project root) and its folder made."""
        if not self.tracking_uri.startswith(SQLITE_PREFIX):
            return self.tracking_uri
        path, query = self.tracking_uri.removeprefix(SQLITE_PREFIX).partition("?")[::2]
        if not path or path == ":memory:":
            return self.tracking_uri
        database = resolve_project_path(path)
        database.parent.mkdir(parents=True, exist_ok=True)
        return f"{SQLITE_PREFIX}{database}" + (f"?{query}" if query else "")

    def resolved_artifact_location(self) -> str | None:
        location = self.artifact_location
        if not location:
            return None
        if "://" in location or location.startswith("mlflow-artifacts:"):
            return location
        if is_server_uri(self.tracking_uri):
            return None
        return resolve_project_path(location).as_uri()

    def client(self) -> "MlflowClient":
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.resolved_tracking_uri())

    def experiment_id(self, client: "MlflowClient", create: bool = True) -> str | None:
        """The experiment's id, created (with the artifact location) when missing and `create` is set."""
        from mlflow.exceptions import MlflowException

        found = client.get_experiment_by_name(self.experiment)
        if found is None and create:
            try:
                return client.create_experiment(self.experiment, self.resolved_artifact_location())
            except MlflowException:  # created meanwhile by a concurrent run: use that one
                found = client.get_experiment_by_name(self.experiment)
                if found is None:
                    raise
        if found is not None and found.lifecycle_stage != "active":
            raise RuntimeError(
                f"MLflow experiment {self.experiment!r} at {self.tracking_uri} is deleted: restore it "
                "(`mlflow experiments restore`) or set INSTRUCT_ASSETS_MLFLOW_EXPERIMENT to another name"
            )
        return found.experiment_id if found is not None else None

    def record_run(
        self,
        run_name: str,
        tags: Mapping[str, str],
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        step_metrics: Mapping[str, Sequence[float]] | None = None,
        figures: Mapping[str, "Figure"] | None = None,
        artifacts: Mapping[str, Path] | None = None,
    ) -> RecordedRun:
        """Log one run and mark it FINISHED; on any error mark it FAILED and re-raise.

        params: values stringified, cut to MLflow's length limit. metrics: one value each (step 0);
        step_metrics: one value per step, step = index. NaN and ±inf are skipped, not logged (SQLite
        stores inf as 1.8e308, a number nobody should average), and their names listed in the tag
        `instruct_assets.skipped_metrics`. figures: PNGs at `plots/<name>.png`. artifacts:
        {folder in the run ("" = its root): a local file or folder}, files keep their names.
        """
        from mlflow.entities import Metric, Param
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH, MAX_TAG_VAL_LENGTH

        client = self.client()
        experiment_id = self.experiment_id(client)
        timestamp = int(time.time() * 1000)
        points = [(name, float(value), 0) for name, value in metrics.items()]
        for name, values in (step_metrics or {}).items():
            points += [(name, float(value), step) for step, value in enumerate(values)]
        skipped = tuple(dict.fromkeys(name for name, value, _ in points if not math.isfinite(value)))
        all_tags = {**tags, **({SKIPPED_METRICS: ",".join(skipped)} if skipped else {})}
        run = client.create_run(
            experiment_id,
            run_name=run_name,
            tags={key: str(value)[:MAX_TAG_VAL_LENGTH] for key, value in all_tags.items()},
        )
        run_id = run.info.run_id
        try:
            logged_params = [Param(key, str(value)[:MAX_PARAM_VAL_LENGTH]) for key, value in params.items()]
            for batch in chunks(logged_params, 100):  # MLflow's limit of params per log_batch
                client.log_batch(run_id, params=batch)
            logged_metrics = [
                Metric(name, value, timestamp, step) for name, value, step in points if math.isfinite(value)
            ]
            for batch in chunks(logged_metrics, PAGE_SIZE):  # and of metrics per log_batch
                client.log_batch(run_id, metrics=batch)
            for name, figure in (figures or {}).items():
                client.log_figure(run_id, figure, f"plots/{name}.png")
            for folder, local in (artifacts or {}).items():
                local = Path(local)
                if local.is_dir():
                    client.log_artifacts(run_id, str(local), folder or None)
                else:
                    client.log_artifact(run_id, str(local), folder or None)
            client.set_terminated(run_id, "FINISHED")
        except BaseException:
            with contextlib.suppress(Exception):  # the original error is the one to report
                client.set_terminated(run_id, "FAILED")
            raise
        return RecordedRun(run_id, experiment_id, self.experiment, self.resolved_tracking_uri(), skipped)

    def runs(self, role: str | None = None) -> pl.DataFrame:
        """Every FINISHED run of the experiment, oldest first, one row each: run_id, run_name,
        start_time (UTC), dagster_run_id, each `instruct_assets.*` tag without its prefix, and each
        metric under the name it was logged with (its latest value). `role` keeps one role's runs.
        An experiment that does not exist yet gives no rows (and is not created)."""
        from mlflow.entities import ViewType

        if role is not None and role not in ROLES:
            raise ValueError(f"run role {role!r}: expected one of {ROLES}")
        client = self.client()
        experiment_id = self.experiment_id(client, create=False)
        query = "attributes.status = 'FINISHED'" + (f" and tags.`{ROLE}` = '{role}'" if role else "")
        found, token = [], None
        while experiment_id is not None:
            page = client.search_runs(
                [experiment_id], query, ViewType.ACTIVE_ONLY, PAGE_SIZE, page_token=token
            )
            found += page
            token = page.token
            if not token:
                break
        return runs_frame(found)


def runs_frame(runs: Sequence) -> pl.DataFrame:
    """MLflow `Run`s as one row each (see MLflowResource.runs); a metric named like a tag column is
    kept as `metric:<name>`."""
    tag_names = sorted({k for run in runs for k in run.data.tags if k.startswith(TAG_PREFIX)})
    columns = ["run_id", "run_name", "start_time", "dagster_run_id"] + [
        name.removeprefix(TAG_PREFIX) for name in tag_names
    ]
    metric_names = sorted({name for run in runs for name in run.data.metrics})
    metric_columns = {name: f"metric:{name}" if name in columns else name for name in metric_names}
    schema = {
        "run_id": pl.String,
        "run_name": pl.String,
        "start_time": pl.Datetime("ms", "UTC"),
        "dagster_run_id": pl.String,
        **{name: pl.String for name in columns[4:]},
        **{column: pl.Float64 for column in metric_columns.values()},
    }
    rows = [
        {
            "run_id": run.info.run_id,
            "run_name": run.info.run_name,
            "start_time": run.info.start_time,
            "dagster_run_id": run.data.tags.get(DAGSTER_RUN_ID),
            **{name.removeprefix(TAG_PREFIX): run.data.tags.get(name) for name in tag_names},
            **{metric_columns[name]: value for name, value in run.data.metrics.items()},
        }
        for run in runs
    ]
    frame = pl.DataFrame(rows, schema={**schema, "start_time": pl.Int64})  # MLflow gives epoch ms
    return frame.with_columns(pl.col("start_time").cast(schema["start_time"])).sort("start_time", "run_id")


def chunks(items: list, size: int) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)]
