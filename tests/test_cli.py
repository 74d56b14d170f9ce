"""The `instruct-assets` command as a new user runs it: demo, materialize, summary, audit."""

import subprocess

import polars as pl

from tests.conftest import run_cli


def test_materialize_prints_per_source_accounting(materialized):
    _, _, stdout = materialized
    assert "rows per source" in stdout
    for source in ("demo_sharegpt", "demo_alpaca", "demo_openai"):
        assert source in stdout
    assert "FAILED" not in stdout


def test_audit_explains_a_kept_sample(materialized):
    env, data, _ = materialized
    kept = pl.read_parquet(data / "lake" / "raw_pool" / "demo_openai.parquet").row(0, named=True)
    out = run_cli("audit", kept["sample_id"], env=env)
    assert out.returncode == 0, out.stderr
    assert f"file {kept['source_ref']['file']}, row {kept['source_ref']['row']}" in out.stdout
    assert "ingest: kept" in out.stdout


def test_audit_explains_a_quarantined_row(materialized):
    env, data, _ = materialized
    bad = pl.read_parquet(data / "lake" / "quarantine" / "demo_sharegpt.parquet")
    row = bad.filter(pl.col("reason") == "invalid_utf8").row(0, named=True)
    out = run_cli("audit", row["quarantine_id"], env=env)
    assert out.returncode == 0, out.stderr
    assert "quarantined (invalid_utf8)" in out.stdout
    assert f"row {row['source_ref']['row']}" in out.stdout
    assert "dropped (invalid_utf8)" in out.stdout


def test_audit_of_an_unknown_id_says_so(materialized):
    env, _, _ = materialized
    out = run_cli("audit", "0" * 32, env=env)
    assert out.returncode == 1 and "no record" in out.stderr


def test_running_demo_twice_keeps_the_landing_files(materialized):
    env, data, _ = materialized
    before = (data / "landing" / "demo_alpaca" / "part-000.jsonl.gz").stat().st_mtime_ns
    assert run_cli("demo", "--profile", "small", env=env).returncode == 0
    assert (data / "landing" / "demo_alpaca" / "part-000.jsonl.gz").stat().st_mtime_ns == before


def test_materialize_releases_the_slots_of_a_run_whose_process_died():
    """A killed `materialize` leaves its run STARTED, holding the gpu pool's slot; the next invocation
    must release it, or its model-bound steps wait forever."""
    import dagster as dg
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

    from instruct_assets.cli.abandoned_runs import HOST_TAG, PID_TAG, launcher_tags, release_abandoned_runs

    finished = subprocess.Popen(["true"])
    finished.wait()  # reaped: its pid no longer exists
    dead_pid = str(finished.pid)
    with dg.instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("gpu", 1)
        dead_run = DagsterRun(job_name="__ASSET_JOB", run_id="a" * 36, status=DagsterRunStatus.STARTED,
                              tags={**launcher_tags(), PID_TAG: dead_pid})  # fmt: skip
        live_run = DagsterRun(job_name="__ASSET_JOB", run_id="b" * 36, status=DagsterRunStatus.STARTED,
                              tags=launcher_tags())  # fmt: skip
        other_host = DagsterRun(job_name="__ASSET_JOB", run_id="c" * 36, status=DagsterRunStatus.STARTED,
                                tags={HOST_TAG: "elsewhere", PID_TAG: dead_pid})  # fmt: skip
        for run in (dead_run, live_run, other_host):
            instance.add_run(run)
        storage.claim_concurrency_slot("gpu", dead_run.run_id, "checkpoint_f")
        assert release_abandoned_runs(instance) == [dead_run.run_id]
        assert storage.get_concurrency_info("gpu").claimed_slots == []
        assert instance.get_run_by_id(dead_run.run_id).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(live_run.run_id).status == DagsterRunStatus.STARTED
        assert instance.get_run_by_id(other_host.run_id).status == DagsterRunStatus.STARTED
