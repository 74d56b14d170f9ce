"""The curation path materialized through Dagster: dedup, filters, decontamination, DSIR, F, lineage."""

import dagster as dg
import polars as pl
import pytest

from instruct_assets.defs.curation.dedup_assets import deduplicate_source
from instruct_assets.defs.ingest.assets import ingest_source
from instruct_assets.demo.build_landing import PLANTED_LEAKS
from instruct_assets.lineage.funnel import curation_funnel
from tests.conftest import run_cli, write_jsonl
from tests.dagster_env import make_env

STAGES = ["ingest", "dedup", "filter", "decontamination", "dsir"]


def test_every_stage_accounts_for_the_rows_the_previous_one_kept(materialized):
    _, data, _ = materialized
    funnel = pl.read_parquet(data / "lake" / "curation_funnel.parquet")
    assert funnel["stage"].to_list() == STAGES
    assert (funnel["rows_in"] == funnel["kept"] + funnel["dropped"]).all()
    assert funnel["rows_in"][1:].to_list() == funnel["kept"][:-1].to_list()
    assert funnel.equals(curation_funnel(data / "lake"))


def test_cross_source_copies_are_dropped_pointing_at_the_kept_copy(materialized):
    _, data, _ = materialized
    lake = data / "lake"
    dedup = pl.read_parquet(lake / "decisions" / "dedup" / "*.parquet")
    exact = dedup.filter(pl.col("reason") == "exact_duplicate")
    # The small demo puts 8 conversations in both demo_alpaca and demo_openai.
    assert exact.filter(pl.col("source") == "demo_openai").height >= 8
    kept_ids = set(pl.read_parquet(lake / "deduped_pool" / "*.parquet")["sample_id"])
    assert set(exact["ref_id"]) <= kept_ids
    deduped = pl.read_parquet(lake / "deduped_pool" / "*.parquet")
    assert deduped["sample_id"].n_unique() == deduped.height
    index = pl.read_parquet(lake / "dedup_index" / "*.parquet")
    assert set(index["sample_id"]) == kept_ids and "text" not in index.columns


def test_planted_benchmark_leaks_are_caught_with_their_item(materialized):
    _, data, _ = materialized
    lake = data / "lake"
    hits = pl.read_parquet(lake / "decisions" / "decontamination" / "*.parquet").filter(~pl.col("kept"))
    planted = pl.read_parquet(lake / "raw_pool" / "demo_alpaca.parquet").filter(
        pl.col("prompt").str.starts_with("Complete this Python function.")
    )
    assert planted.height == PLANTED_LEAKS
    assert set(planted["sample_id"]) <= set(hits["sample_id"])
    assert hits["reason"].unique().to_list() == ["benchmark_overlap"]
    assert all(ref.startswith("humaneval/HumanEval/") for ref in hits["ref_id"])
    targets = pl.read_parquet(lake / "benchmark_targets.parquet")
    eval_items = targets.filter(pl.col("split") == "eval")
    eval_ids = set(eval_items.select(pl.format("{}/{}", "benchmark", "item_id")).to_series())
    assert set(hits["ref_id"]) <= eval_ids


def test_foundational_set_is_drawn_from_the_clean_pool_with_weights_and_domains(materialized):
    _, data, _ = materialized
    lake = data / "lake"
    selected = pl.read_parquet(lake / "foundational_set.parquet")
    clean = set(pl.read_parquet(lake / "decontaminated_pool" / "*.parquet")["sample_id"])
    weights = pl.read_parquet(lake / "dsir_weights.parquet")
    assert selected.height > 0 and selected["sample_id"].n_unique() == selected.height
    assert set(selected["sample_id"]) <= clean
    assert set(selected["dsir_domain"]) <= {"code", "knowledge", "math"}
    assert selected["dsir_log_weight"].is_not_null().all()
    eligible = weights.filter("eligible")
    assert set(selected["sample_id"]) <= set(eligible["sample_id"])
    # F is a 25% draw of the eligible pool by default.
    assert selected.height == round(0.25 * eligible.height)


def test_audit_shows_every_stage_for_a_selected_sample(materialized):
    env, data, _ = materialized
    sample = pl.read_parquet(data / "lake" / "foundational_set.parquet")["sample_id"][0]
    report = run_cli("audit", sample, env=env).stdout
    for stage in STAGES:
        assert f"  {stage}: kept" in report, report
    assert "selected for" in report


def test_audit_of_a_duplicate_names_what_it_duplicates(materialized):
    env, data, _ = materialized
    dup = (
        pl.read_parquet(data / "lake" / "decisions" / "dedup" / "*.parquet")
        .filter(~pl.col("kept"))
        .row(0, named=True)
    )
    report = run_cli("audit", dup["sample_id"], env=env).stdout
    assert f"dedup: dropped ({dup['reason']})" in report and f"see {dup['ref_id']}" in report


def test_report_prints_the_funnel_and_the_domain_mix(materialized):
    env, _, printed = materialized
    report = run_cli("report", env=env)
    assert report.returncode == 0
    for stage in STAGES:
        assert stage in report.stdout
    assert "foundational set F:" in report.stdout and "foundational set F:" in printed


@pytest.fixture
def env(tmp_path, monkeypatch):
    with dg.instance_for_test() as instance:
        yield make_env(tmp_path / "data", instance, monkeypatch)


def dedup_partition(env, source: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [ingest_source, deduplicate_source],
        partition_key=source,
        resources=env.resources,
        instance=env.instance,
    )


def test_a_new_source_is_deduplicated_against_kept_rows_without_touching_them(
    env, tmp_path, real_conversations
):
    long_ones = [c for c in real_conversations if sum(len(t["value"]) for t in c["conversations"]) > 2000]
    first, fresh = long_ones[:12], real_conversations[-5:]
    env.add_source("first", write_jsonl(tmp_path / "first.jsonl", first))
    env.register("first")
    assert dedup_partition(env, "first").success
    earlier = {
        path: path.read_bytes()
        for path in [
            env.lake / "decisions" / "dedup" / "first.parquet",
            env.lake / "deduped_pool" / "first.parquet",
            env.lake / "dedup_index" / "first.parquet",
        ]
    }

    exact_copies = first[:3]
    edited = []
    for record in first[3:6]:  # a word added to a long conversation: a near duplicate
        turns = [dict(t) for t in record["conversations"]]
        turns[-1]["value"] += " Edited."
        edited.append({**record, "conversations": turns})
    env.add_source("second", write_jsonl(tmp_path / "second.jsonl", exact_copies + edited + fresh))
    env.register("second")
    result = dedup_partition(env, "second")

    assert result.success
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()}["rows_accounted"]
    first_ids = set(pl.read_parquet(env.lake / "deduped_pool" / "first.parquet")["sample_id"])
    decisions = pl.read_parquet(env.lake / "decisions" / "dedup" / "second.parquet")
    dropped = decisions.filter(~pl.col("kept"))
    assert dropped.group_by("reason").len().sort("reason").rows() == [
        ("exact_duplicate", 3),
        ("near_duplicate", 3),
    ]
    assert set(dropped["ref_id"]) <= first_ids
    assert decisions.filter("kept").height == len(fresh)
    assert all(path.read_bytes() == content for path, content in earlier.items())


def test_a_newly_ingested_source_flows_on_through_curation_by_itself(env, tmp_path, real_conversations):
    from instruct_assets.definitions import defs

    definitions = defs()
    before = dg.evaluate_automation_conditions(defs=definitions, instance=env.instance)
    assert before.get_num_requested(dg.AssetKey("benchmark_targets")) == 1  # missing: made on first tick
    assert before.get_num_requested(dg.AssetKey("deduped_pool")) == 0

    env.add_source("chat", write_jsonl(tmp_path / "chat.jsonl", real_conversations[:6]))
    env.register("chat")
    assert dg.materialize(
        [ingest_source], partition_key="chat", resources=env.resources, instance=env.instance
    ).success
    after = dg.evaluate_automation_conditions(defs=definitions, instance=env.instance, cursor=before.cursor)
    assert after.get_num_requested(dg.AssetKey("deduped_pool")) == 1  # the new partition, no other
    assert after.get_num_requested(dg.AssetKey("source_accounting")) == 1
