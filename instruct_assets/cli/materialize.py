"""Materialize the whole asset graph on the configured instance: every source partition, then the rest."""

import dagster as dg

from instruct_assets.cli.abandoned_runs import launcher_tags, release_abandoned_runs
from instruct_assets.definitions import defs as load_defs
from instruct_assets.defs.ingest.partitions import sources_partitions
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
    """Materialize the graph in dependency order; returns (what ran, succeeded) per run.

    1. unpartitioned assets that need no source (benchmark_targets);
    2. one run per source, highest dedup priority first, of every per-source asset (ingest, dedup,
       filter, decontamination): deduplication keeps the copy already kept, so this order is what makes
       a higher-priority source win;
    3. one run of the remaining unpartitioned assets (DSIR, F, scores, selections, checkpoints, evals);
    4. one run per partition of assets partitioned otherwise (one checkpoint and its evaluation per
       selection method).
    """
    for run_id in release_abandoned_runs(instance):
        print(f"released run {run_id}: its process died, and it held a concurrency slot", flush=True)
    definitions = load_defs()
    graph = definitions.resolve_asset_graph()
    global_job = definitions.resolve_implicit_global_asset_job_def()
    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    keys = graph.materializable_asset_keys
    partitioned = {key for key in keys if graph.get(key).partitions_def == sources_partitions}
    partitioned_otherwise = {
        key for key in keys if graph.get(key).partitions_def not in (None, sources_partitions)
    }
    unpartitioned = keys - partitioned - partitioned_otherwise
    needs_sources = {key for key in unpartitioned if graph.get_ancestor_asset_keys(key) & partitioned}
    outcomes = []

    def run(selection: set[dg.AssetKey], label: str, partition_key: str | None = None) -> None:
        if not selection:
            return
        result = global_job.execute_in_process(
            instance=instance,
            tags=launcher_tags(),
            asset_selection=sorted(selection),
            partition_key=partition_key,
            raise_on_error=False,
            run_config=quiet,
        )
        outcomes.append((label, result.success))

    run(
        unpartitioned - needs_sources,
        ", ".join(sorted(k.to_user_string() for k in unpartitioned - needs_sources)),
    )
    priorities = build_resources()["landing"].priorities()
    for source in sorted(register_sources(instance), key=lambda name: (-priorities.get(name, 0), name)):
        run(partitioned, f"per-source assets [{source}]", partition_key=source)
    run(needs_sources, ", ".join(sorted(k.to_user_string() for k in needs_sources)))
    by_partitioning: dict = {}
    for key in partitioned_otherwise:
        by_partitioning.setdefault(graph.get(key).partitions_def, set()).add(key)
    for partitions_def, selection in by_partitioning.items():
        names = ", ".join(sorted(k.to_user_string() for k in selection))
        for partition in partitions_def.get_partition_keys():
            run(selection, f"{names} [{partition}]", partition_key=partition)
    return outcomes
