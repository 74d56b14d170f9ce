"""The code location as Dagster and a user load it."""

import subprocess
import sys
from pathlib import Path

import dagster as dg

from instruct_assets.definitions import defs
from instruct_assets.paths import PROJECT_ROOT

BIN = Path(sys.executable).parent

# Pinned on purpose: renaming or dropping an asset breaks lineage and downstream users. Update with care.
EXPECTED_ASSET_KEYS = [
    "benchmark_targets",
    "checkpoint_f",
    "checkpoint_mixed",
    "checkpoint_stage2",
    "coverage_selection",
    "curation_funnel",
    "decontaminated_pool",
    "dedup_index",
    "deduped_pool",
    "dsir_weights",
    "eval_base",
    "eval_f",
    "eval_mixed",
    "eval_stage2",
    "filtered_pool",
    "foundational_set",
    "instruction_dev_set",
    "iterit_selection",
    "quarantine",
    "random_selection",
    "raw_pool",
    "rds_plus_selection",
    "scored_pool",
    "selection_checkpoint",
    "selection_eval",
    "source_accounting",
    "stage2_training_set",
]
EXPECTED_CHECKS = [
    "coverage_selection:valid_selection",
    "decontaminated_pool:rows_accounted",
    "deduped_pool:rows_accounted",
    "filtered_pool:rows_accounted",
    "foundational_set:no_benchmark_overlap",
    "foundational_set:rows_accounted",
    "foundational_set:unique_sample_id",
    "iterit_selection:valid_selection",
    "random_selection:valid_selection",
    "raw_pool:rows_accounted",
    "raw_pool:unique_sample_id",
    "rds_plus_selection:valid_selection",
    "scored_pool:every_sample_scored",
    "stage2_training_set:rows_accounted",
]
EXPECTED_SENSORS = ["automation_sensor", "landing_sensor"]


def test_asset_keys_snapshot():
    definitions = defs()
    assert sorted(k.to_user_string() for k in definitions.resolve_all_asset_keys()) == EXPECTED_ASSET_KEYS
    graph = definitions.resolve_asset_graph()
    checks = sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys)
    assert checks == EXPECTED_CHECKS


def test_every_asset_states_grain_source_and_guarantees():
    for spec in defs().resolve_all_asset_specs():
        text = spec.description or ""
        for word in ("Grain:", "Source:", "Guarantees:"):
            assert word in text, f"{spec.key.to_user_string()} docstring lacks {word!r}"


def test_importing_the_definitions_does_not_import_torch():
    code = "import sys, instruct_assets.definitions as d; d.defs(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_model_bound_assets_share_the_gpu_pool():
    specs = {spec.key.to_user_string(): spec for spec in defs().resolve_all_asset_specs()}
    graph = defs().resolve_asset_graph()
    pools = {key: graph.get(dg.AssetKey(key)).pools for key in specs}
    assert {key for key, pool in pools.items() if pool} == {
        "scored_pool",
        "rds_plus_selection",
        "iterit_selection",
        "stage2_training_set",
        "checkpoint_f",
        "checkpoint_stage2",
        "checkpoint_mixed",
        "selection_checkpoint",
        "eval_base",
        "eval_f",
        "eval_stage2",
        "eval_mixed",
        "selection_eval",
    }
    assert all(pools[key] == {"gpu"} for key in ("scored_pool", "rds_plus_selection", "iterit_selection"))


def test_dg_check_defs_passes():
    result = subprocess.run([BIN / "dg", "check", "defs"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workspace_file_loads_in_dagster():
    result = subprocess.run(
        [BIN / "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ingest_job_is_partitioned_by_source():
    job = defs().resolve_job_def("ingest_source_job")
    assert isinstance(job.partitions_def, dg.DynamicPartitionsDefinition)
    assert job.partitions_def.name == "sources"


def test_sensors_that_keep_assets_fresh_run_by_default():
    sensors = {sensor.name: sensor for sensor in defs().sensors}
    assert sorted(sensors) == EXPECTED_SENSORS
    for sensor in sensors.values():
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name
