import json

import dagster as dg

from instruct_assets.defs.ingest.assets import SOURCE_FINGERPRINT, ingest_source
from instruct_assets.defs.ingest.partitions import sources_partitions
from instruct_assets.resources.landing import LandingZoneResource

ingest_source_job = dg.define_asset_job(
    "ingest_source_job",
    selection=dg.AssetSelection.assets(ingest_source),
    partitions_def=sources_partitions,
    description="Ingest one source (partition) into raw_pool and quarantine.",
)


def ingested_fingerprint(instance: dg.DagsterInstance, source: str) -> str | None:
    """The source fingerprint recorded by the latest raw_pool materialization of this source, if any."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("raw_pool"), asset_partitions=[source]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    entry = records[0].asset_materialization.metadata.get(SOURCE_FINGERPRINT)
    return entry.value if entry is not None else None


@dg.sensor(job=ingest_source_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZoneResource) -> dg.SensorResult:
    """Registers each new source in the landing directory as a partition and ingests it; re-ingests a
    known source whenever its files change (added, removed, replaced). The cursor holds a fingerprint
    (names, sizes, modification times) per source; a source already ingested at its current fingerprint
    (by `make run` or a launch from the UI) is not ingested again."""
    fingerprints = json.loads(context.cursor) if context.cursor else {}
    sources = landing.discover()
    registered = set(context.instance.get_dynamic_partitions(sources_partitions.name))
    new_sources = sorted(name for name in sources if name not in registered)
    run_requests = []
    for name, source in sources.items():
        fingerprint = source.fingerprint()
        if fingerprints.get(name) == fingerprint:
            continue
        fingerprints[name] = fingerprint
        if name in registered and ingested_fingerprint(context.instance, name) == fingerprint:
            continue
        run_requests.append(dg.RunRequest(partition_key=name, run_key=f"{name}:{fingerprint}"))
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[sources_partitions.build_add_request(new_sources)]
        if new_sources
        else [],
        cursor=json.dumps(fingerprints, sort_keys=True),
    )
