"""Materialize the whole asset graph on the configured instance: every source partition, then the rest."""

import dagster as dg

from instruct_assets.definitions import defs as load_defs
from instruct_assets.defs.ingest.partitions import sources_partitions
from instruct_assets.defs.ingest.sensors import ingest_source_job
from instruct_assets.defs.resources import build_resources


def register_sources(instance: dg.DagsterInstance) -> list[str]:
    """Add a partition for every source in the landing directory (what landing_sensor does on a tick)."""
    sources = build_resources()["landing"].discover()
    known = set(instance.get_dynamic_partitions(sources_partitions.name))
    new = [name for name in sources if name not in known]
    if new:
        instance.add_dynamic_partitions(sources_partitions.name, new)
    return list(sources)


def materialize_all(instance: dg.DagsterInstance) -> list[tuple[str, bool]]:
    """Run each source's ingest, then every unpartitioned asset; returns (what ran, succeeded)."""
    definitions = load_defs()
    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    outcomes = []
    job = definitions.resolve_job_def(ingest_source_job.name)
    for source in register_sources(instance):
        result = job.execute_in_process(
            partition_key=source, instance=instance, raise_on_error=False, run_config=quiet
        )
        outcomes.append((f"ingest_source[{source}]", result.success))
    graph = definitions.resolve_asset_graph()
    unpartitioned = [key for key in graph.materializable_asset_keys if graph.get(key).partitions_def is None]
    if unpartitioned:
        result = definitions.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=unpartitioned, raise_on_error=False, run_config=quiet
        )
        outcomes.append((", ".join(k.to_user_string() for k in unpartitioned), result.success))
    return outcomes
