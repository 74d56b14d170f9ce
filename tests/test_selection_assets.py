"""scored_pool and the selections, materialized for real on the small demo (the tiny random Llama as the
LLM, so scores are arbitrary but every code path runs; the real model is in test_llm_backend.py)."""

import shutil

import dagster as dg
import numpy as np
import polars as pl
import pytest

from instruct_assets.definitions import defs as load_defs
from instruct_assets.defs.resources import build_resources
from tests.conftest import run_cli
from tests.tiny_models import build_tiny_llama

SELECTIONS = ["random_selection", "rds_plus_selection", "iterit_selection", "coverage_selection"]


def lake_table(data, name: str) -> pl.DataFrame:
    return pl.read_parquet(data / "lake" / f"{name}.parquet")


def test_scored_pool_scores_every_sample_of_f(materialized):
    env, data, _ = materialized
    foundational, scored = lake_table(data, "foundational_set"), lake_table(data, "scored_pool")
    assert sorted(scored["sample_id"]) == sorted(foundational["sample_id"])
    np.testing.assert_allclose(scored["ifd"], scored["ppl_conditional"] / scored["ppl_response"], rtol=1e-9)
    assert scored["response_tokens"].min() > 0 and scored["prompt_tokens"].min() > 0
    vectors = np.stack(scored["embedding"].to_numpy())
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert scored["lm_embedding"].dtype.shape == (64,)  # the tiny model's hidden size
    assert scored["llm_model"].unique().to_list() == [env["INSTRUCT_ASSETS_LLM_MODEL"]]


@pytest.mark.parametrize("selection", SELECTIONS)
def test_a_selection_ranks_its_picks_and_decides_every_candidate(materialized, selection):
    _, data, _ = materialized
    scored, selected = lake_table(data, "scored_pool"), lake_table(data, selection)
    decisions = pl.read_parquet(data / "lake" / "decisions" / selection / "_all.parquet")
    aligned = scored.filter(pl.col("ifd") < 1).height
    budget = round(0.25 * scored.height)
    assert selected.height == (
        budget if selection in {"random_selection", "rds_plus_selection"} else min(budget, aligned)
    )
    assert selected["rank"].to_list() == list(range(1, selected.height + 1))
    assert selected["sample_id"].n_unique() == selected.height
    assert sorted(decisions["sample_id"]) == sorted(scored["sample_id"])
    assert sorted(decisions.filter("kept")["sample_id"]) == sorted(selected["sample_id"])
    assert decisions.filter(~pl.col("kept"))["reason"].null_count() == 0
    assert selected["detail"].str.starts_with("rank").all() or selection == "iterit_selection"


@pytest.mark.parametrize("selection", ["iterit_selection", "coverage_selection"])
def test_ifd_based_selections_never_pick_an_unaligned_sample(materialized, selection):
    _, data, _ = materialized
    scored, selected = lake_table(data, "scored_pool"), lake_table(data, selection)
    assert scored.filter(pl.col("ifd") >= 1).height > 0, "the tiny model should give some IFD >= 1"
    picked = scored.join(selected.select("sample_id"), on="sample_id")
    assert (picked["ifd"] < 1).all()
    decisions = pl.read_parquet(data / "lake" / "decisions" / selection / "_all.parquet")
    unaligned = decisions.filter(pl.col("reason") == "unaligned_ifd")["sample_id"]
    assert sorted(unaligned) == sorted(scored.filter(pl.col("ifd") >= 1)["sample_id"])


def test_rds_plus_picks_round_robin_and_names_the_closest_query(materialized):
    _, data, _ = materialized
    selected, targets = lake_table(data, "rds_plus_selection"), lake_table(data, "benchmark_targets")
    tasks = sorted(targets["domain"].unique())
    assert selected["task"].head(len(tasks)).to_list() == tasks
    owners = dict(zip(targets["item_id"], targets["domain"], strict=True))
    assert all(owners[ref] == task for ref, task in zip(selected["ref_id"], selected["task"], strict=True))


def test_audit_shows_scores_and_selection_ranks(materialized):
    env, data, _ = materialized
    sample_id = lake_table(data, "rds_plus_selection")["sample_id"][0]
    report = run_cli("audit", sample_id, env=env)
    assert report.returncode == 0, report.stderr
    assert "IFD " in report.stdout and "PPL(y|x)" in report.stdout
    assert "rds_plus_selection: kept; rank 1: task" in report.stdout
    assert "random_selection:" in report.stdout and "coverage_selection:" in report.stdout


def test_a_later_iterit_epoch_rescores_only_candidates_with_the_checkpoint(
    materialized, tmp_path, monkeypatch
):
    env, data, _ = materialized
    shutil.copytree(data, tmp_path / "data")
    checkpoint = build_tiny_llama(tmp_path / "checkpoint", seed=1)
    monkeypatch.setenv("INSTRUCT_ASSETS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INSTRUCT_ASSETS_LLM_MODEL", env["INSTRUCT_ASSETS_LLM_MODEL"])
    defs = load_defs()
    llm_caches = tmp_path / "data" / "lake" / "score_cache" / "llm"
    caches_before = set(llm_caches.iterdir())
    config = {"epoch": 1, "rescoring_model": str(checkpoint), "candidate_factor": 2.0}
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [
                defs.get_assets_def("iterit_selection"),
                dg.AssetSpec("scored_pool"),
                dg.AssetSpec("foundational_set"),
            ],
            instance=instance,
            resources=build_resources(),
            run_config={"ops": {"iterit_selection": {"config": config}}},
        )
        assert result.success
        new_caches = set(llm_caches.iterdir()) - caches_before
        assert len(new_caches) == 1, "the checkpoint's scores get a cache of their own"
        rescored = pl.read_parquet(next(iter(new_caches)) / "*.parquet")
        scored = pl.read_parquet(tmp_path / "data" / "lake" / "scored_pool.parquet")
        aligned = scored.filter(pl.col("ifd") < 1).height
        budget = round(0.25 * scored.height)
        assert rescored.height == min(aligned, round(2.0 * budget)), (
            "only the epoch-0 candidates are re-scored"
        )
        selected = pl.read_parquet(tmp_path / "data" / "lake" / "iterit_selection.parquet")
        assert (selected["epoch"] == 1).all()
        checkpoint_ifd = dict(zip(rescored["sample_id"], rescored["ifd"], strict=True))
        assert all(
            checkpoint_ifd[s] == i for s, i in zip(selected["sample_id"], selected["ifd"], strict=True)
        )

        again = dg.materialize(
            [defs.get_assets_def("scored_pool"), dg.AssetSpec("foundational_set")],
            instance=instance,
            resources=build_resources(),
        )
        metadata = again.asset_materializations_for_node("scored_pool")[0].metadata
        assert metadata["newly_scored"].value == 0 and metadata["newly_embedded"].value == 0
