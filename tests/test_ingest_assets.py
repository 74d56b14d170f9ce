"""raw_pool and quarantine materialized through Dagster itself, on a temporary instance."""

import dagster as dg
import polars as pl
import pytest

from instruct_assets.defs.ingest.assets import ingest_source
from instruct_assets.defs.reporting.assets import source_accounting
from tests.conftest import write_jsonl
from tests.dagster_env import make_env
from tests.hostile import EXPECTED, HOSTILE_DIR


@pytest.fixture
def env(tmp_path, monkeypatch):
    with dg.instance_for_test() as instance:
        yield make_env(tmp_path / "data", instance, monkeypatch)


def materialize(env, partition_key: str, assets=(ingest_source,)) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(assets), partition_key=partition_key, resources=env.resources, instance=env.instance
    )


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_hostile_source_materializes_green_and_accounts_for_every_row(env):
    env.add_source("hostile", *(HOSTILE_DIR / name for name in EXPECTED))
    env.register("hostile")
    result = materialize(env, "hostile")

    assert result.success
    assert check_results(result) == {"rows_accounted": True, "unique_sample_id": True}
    kept = pl.read_parquet(env.lake / "raw_pool" / "hostile.parquet")
    quarantined = pl.read_parquet(env.lake / "quarantine" / "hostile.parquet")
    decisions = pl.read_parquet(env.lake / "decisions" / "ingest" / "hostile.parquet")
    metadata = result.asset_materializations_for_node("ingest_source")[0].metadata
    assert metadata["rows_read"].value == kept.height + quarantined.height == decisions.height
    assert decisions["kept"].sum() == kept.height
    assert set(quarantined["reason"]) >= {"invalid_json", "invalid_utf8", "unknown_format", "truncated_gzip"}
    assert "quarantined_by_reason" in metadata and "preview" in metadata
    # Nothing is left half-written: staged files were renamed into place.
    assert not list((env.lake / ".staging").rglob("*.parquet"))


def test_reingesting_a_changed_source_replaces_its_partition(env, tmp_path, real_conversations):
    env.register("chat")
    env.add_source("chat", write_jsonl(tmp_path / "part-0.jsonl", real_conversations[:10]))
    assert materialize(env, "chat").success
    env.add_source("chat", write_jsonl(tmp_path / "part-1.jsonl", real_conversations[10:15]))
    assert materialize(env, "chat").success
    kept = pl.read_parquet(env.lake / "raw_pool" / "chat.parquet")
    assert kept.height == 15
    assert set(kept["source_ref"].struct.field("file")) == {"chat/part-0.jsonl", "chat/part-1.jsonl"}


def test_a_failed_run_leaves_the_previous_version_in_place(env, tmp_path, real_conversations):
    env.register("chat")
    folder = env.add_source("chat", write_jsonl(tmp_path / "part-0.jsonl", real_conversations[:10]))
    assert materialize(env, "chat").success
    before = (env.lake / "raw_pool" / "chat.parquet").read_bytes()
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    with pytest.raises(FileNotFoundError, match="has no files"):
        materialize(env, "chat")
    assert (env.lake / "raw_pool" / "chat.parquet").read_bytes() == before


def test_source_accounting_sums_every_partition_and_refreshes_the_warehouse(
    env, tmp_path, real_conversations
):
    env.register("one", "two")
    env.add_source("one", write_jsonl(tmp_path / "a.jsonl", real_conversations[:8]))
    env.add_source("two", HOSTILE_DIR / "bad_turns.jsonl")
    for source in ("one", "two"):
        assert materialize(env, source).success
    result = dg.materialize([source_accounting], resources=env.resources, instance=env.instance)
    assert result.success
    accounting = pl.read_parquet(env.lake / "source_accounting.parquet").sort("source")
    assert accounting["source"].to_list() == ["one", "two"]
    assert accounting["kept"].to_list() == [8, EXPECTED["bad_turns.jsonl"]["kept"]]
    assert (accounting["rows_read"] == accounting["kept"] + accounting["quarantined"]).all()
    import duckdb

    with duckdb.connect(str(env.data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM raw_pool").fetchall()[0][0] == accounting["kept"].sum()


def test_ingesting_a_source_triggers_the_accounting_refresh(env, tmp_path, real_conversations):
    definitions = dg.Definitions(assets=[ingest_source, source_accounting], resources=env.resources)
    before = dg.evaluate_automation_conditions(defs=definitions, instance=env.instance)
    assert before.total_requested == 0  # no source ingested yet: nothing to report

    env.register("chat")
    env.add_source("chat", write_jsonl(tmp_path / "a.jsonl", real_conversations[:4]))
    assert materialize(env, "chat").success
    after = dg.evaluate_automation_conditions(defs=definitions, instance=env.instance, cursor=before.cursor)
    assert after.get_num_requested(dg.AssetKey("source_accounting")) == 1
    assert after.total_requested == 1


def test_accounting_of_an_empty_lake_is_an_empty_table(env):
    assert dg.materialize([source_accounting], resources=env.resources, instance=env.instance).success
    assert pl.read_parquet(env.lake / "source_accounting.parquet").height == 0
