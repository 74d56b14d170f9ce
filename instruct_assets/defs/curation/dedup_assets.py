import dagster as dg
import polars as pl

from instruct_assets.curation.dedup import dedup_verdicts
from instruct_assets.curation.dedup_rows import index_rows
from instruct_assets.curation.minhash import SIGNATURE_SCHEME, MinHashSettings
from instruct_assets.defs.curation.config import DedupConfig
from instruct_assets.defs.curation.source_stage import rows_accounted_spec, stage_outputs, write_source_stage
from instruct_assets.defs.ingest.assets import OWNERS, ingest_source
from instruct_assets.defs.ingest.partitions import sources_partitions
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.landing import LandingZoneResource
from instruct_assets.versioning import code_version_of

DEDUP_CODE_VERSION = code_version_of(
    *(
        PROJECT_ROOT / "instruct_assets" / "curation" / f"{name}.py"
        for name in ("dedup", "dedup_rows", "minhash", "clusters")
    ),
    PROJECT_ROOT / "sql" / "curation" / "dedup_rows.sql",
    PROJECT_ROOT / "sql" / "curation" / "conversation_text_macro.sql",
)
RAW_POOL = ingest_source.keys_by_output_name["raw_pool"]
DEDUP_INDEX = dg.AssetKey("dedup_index")

DEDUPED_POOL_DOC = """Conversations of one source that duplicate nothing already kept.

Grain: one row per conversation kept (partition = source); raw_pool columns.

Source: raw_pool[source], deduplicated against itself and against dedup_index of every other source
already deduplicated (incremental: earlier sources are read from their index, never recomputed).

Guarantees: no two rows across all deduped_pool partitions share a normalized-text hash; no row is an
LSH near-duplicate candidate (MinHash, word shingles) of a row kept earlier or of a better-ranked row
of its source; every raw_pool row has a `dedup` decision: kept, or `exact_duplicate` /
`near_duplicate` with `ref_id` = the kept row it duplicates. Rows kept before are never revoked.
"""

DEDUP_INDEX_DOC = """The deduplication index: what later sources are compared against.

Grain: one row per deduped_pool row (partition = source).

Source: computed with deduped_pool[source] in the same run.

Guarantees: `exact_key` (md5 of the lower-cased, whitespace-collapsed conversation text), MinHash-LSH
`band_keys` and ranking fields for every kept row, and `signature_scheme` naming the hashing and
layout they were made with; no text.
"""


def scheme_of(settings: MinHashSettings) -> str:
    bands, rows = settings.layout()
    return (
        f"{SIGNATURE_SCHEME}|shingle={settings.shingle_size}|perm={settings.num_perm}"
        f"|seed={settings.seed}|layout={bands}x{rows}"
    )


def reference_index(lake: LakeResource, source: str, scheme: str) -> pl.DataFrame | None:
    """The dedup_index of every other source, or None when there is none yet; refuses an index made
    with another scheme, whose keys cannot be compared with these."""
    paths = sorted(p for p in (lake.root / "dedup_index").glob("*.parquet") if p.stem != source)
    if not paths:
        return None
    index = pl.read_parquet(paths)
    stale = index.filter(pl.col("signature_scheme") != scheme).select("source", "signature_scheme").unique()
    if stale.height:
        raise ValueError(
            f"dedup_index of {', '.join(stale['source'])} was built with {stale['signature_scheme'][0]!r}, "
            f"this run uses {scheme!r}: re-materialize deduped_pool for every source with one config "
            "(a backfill of all partitions)"
        )
    return index


@dg.multi_asset(
    name="deduplicate_source",
    partitions_def=sources_partitions,
    deps=[RAW_POOL],
    outs={
        "deduped_pool": dg.AssetOut(
            description=DEDUPED_POOL_DOC, kinds={"parquet", "polars"}, owners=OWNERS,
            code_version=DEDUP_CODE_VERSION, automation_condition=dg.AutomationCondition.eager(),
        ),
        "dedup_index": dg.AssetOut(
            description=DEDUP_INDEX_DOC, kinds={"parquet"}, owners=OWNERS, code_version=DEDUP_CODE_VERSION,
            automation_condition=dg.AutomationCondition.eager(),
        ),
    },
    check_specs=[rows_accounted_spec("deduped_pool")],
    group_name="curation",
    can_subset=False,
)  # fmt: skip
def deduplicate_source(
    context: dg.AssetExecutionContext, config: DedupConfig, lake: LakeResource, landing: LandingZoneResource
):
    """Deduplicate one source against itself and every source deduplicated before it."""
    source = context.partition_key
    settings = config.to_settings()
    scheme = scheme_of(settings.minhash)
    priority = landing.priorities().get(source, 0)
    raw_path = lake.asset_path(RAW_POOL, source)
    candidates = index_rows(raw_path, priority, settings.minhash)
    reference = reference_index(lake, source, scheme)
    if reference is None:
        reference = candidates.clear()
    verdicts = dedup_verdicts(candidates, reference, settings)
    context.log.info(
        f"{source}: {candidates.height} rows against {reference.height} kept in other sources; "
        f"{verdicts['kept'].sum()} kept"
    )
    result = write_source_stage(context, lake, "dedup", raw_path, verdicts, DEDUP_CODE_VERSION)
    output, check = stage_outputs(
        result,
        "deduped_pool",
        lake.asset_path(dg.AssetKey("deduped_pool"), source),
        ["sample_id", "prompt"],
        output_name="deduped_pool",
    )
    yield output
    index = candidates.join(verdicts.filter("kept").select("sample_id"), on="sample_id", how="semi")
    yield dg.Output(
        index.with_columns(signature_scheme=pl.lit(scheme)),
        output_name="dedup_index",
        metadata={"dagster/row_count": index.height, "signature_scheme": scheme},
    )
    yield check
