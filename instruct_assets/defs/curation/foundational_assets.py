import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from instruct_assets.curation.decontamination import DEFAULT_N, Decontaminator
from instruct_assets.curation.dsir import (
    AUTO_NGRAMS_PER_BUCKET,
    MIN_EXAMPLE_TOKENS,
    NgramFeatures,
    corpus_counts,
    gumbel_top_k,
    log_importance_ratio,
    per_domain_quota,
    score_texts,
)
from instruct_assets.curation.pool_batches import conversation_batches
from instruct_assets.defs.automation import REFRESH_WHEN_ANY_SOURCE_UPDATES
from instruct_assets.defs.curation.benchmark_assets import BENCHMARK_TARGETS
from instruct_assets.defs.curation.source_stage import write_decisions, write_kept_rows
from instruct_assets.defs.ingest.assets import OWNERS
from instruct_assets.markdown import markdown_histogram, markdown_table
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.parquet_io_manager import StagedParquet
from instruct_assets.versioning import code_version_of

DECONTAMINATED_POOL = dg.AssetKey("decontaminated_pool")
DSIR_CODE_VERSION = code_version_of(
    PROJECT_ROOT / "instruct_assets" / "curation" / "dsir.py",
    PROJECT_ROOT / "instruct_assets" / "curation" / "dsir_features.py",
)


class DsirConfig(dg.Config):
    num_buckets: int = Field(10_000, description="hashed n-gram buckets (the reference's default)")
    ngrams: int = Field(2, description="1: unigrams; 2: unigrams and bigrams")
    raw_fit_max_ngrams: int | None = Field(
        None, description=f"n-grams of the pool to fit on; default {AUTO_NGRAMS_PER_BUCKET} per bucket"
    )
    min_tokens: int = Field(MIN_EXAMPLE_TOKENS, description="shorter samples are never selected")


class FoundationalSetConfig(dg.Config):
    size: int | None = Field(None, description="samples to select; overrides fraction")
    fraction: float = Field(0.25, description="share of the eligible pool to select when size is unset")
    mixture: dict[str, float] = Field(
        default_factory=dict,
        description="share of F per target domain, e.g. {math: 0.4, code: 0.4, knowledge: 0.2}; "
        "empty: proportional to each domain's target n-grams (the reference's default)",
    )
    seed: int = Field(0, description="Gumbel noise seed: the same seed and weights select the same rows")


def pool_paths(lake: LakeResource) -> list:
    return sorted((lake.root / DECONTAMINATED_POOL.path[-1]).glob("*.parquet"))


def pool_text_batches(lake: LakeResource):
    for path in pool_paths(lake):
        for batch in conversation_batches(path):
            yield batch.column("text")


@dg.asset(
    deps=[DECONTAMINATED_POOL],
    ins={"benchmark_targets": dg.AssetIn(BENCHMARK_TARGETS)},
    kinds={"numpy", "parquet"},
    owners=OWNERS,
    group_name="curation",
    code_version=DSIR_CODE_VERSION,
    automation_condition=REFRESH_WHEN_ANY_SOURCE_UPDATES,
)
def dsir_weights(
    context: dg.AssetExecutionContext, config: DsirConfig, lake: LakeResource, benchmark_targets: pl.LazyFrame
) -> dg.Output[pl.DataFrame]:
    """DSIR log importance weights of every decontaminated sample, one per target domain.

    Grain: one row per decontaminated_pool row, all sources: sample_id, source, tokens, eligible, and
    `log_weight_<domain>` per domain of the benchmark targets.

    Source: decontaminated_pool (every partition) as the raw distribution; the `target` split of
    benchmark_targets, one target distribution per domain.

    Guarantees: hashed unigram+bigram bag-of-words models as in the `data-selection` package
    (WordPunct tokens, sha256 buckets); log weight = sum over the sample's n-grams of
    log p_target(bucket) - log p_raw(bucket); `eligible` = at least min_tokens tokens.
    """
    features = NgramFeatures(num_buckets=config.num_buckets, ngrams=config.ngrams)
    targets = benchmark_targets.filter(pl.col("split") == "target").collect()
    domains = sorted(targets["domain"].unique())
    target_counts = np.stack(
        [corpus_counts([targets.filter(pl.col("domain") == d)["text"]], features) for d in domains]
    )
    max_ngrams = config.raw_fit_max_ngrams or AUTO_NGRAMS_PER_BUCKET * config.num_buckets
    raw_counts = corpus_counts(pool_text_batches(lake), features, max_ngrams=max_ngrams)
    log_diff = log_importance_ratio(target_counts, raw_counts)

    parts = []
    for path in pool_paths(lake):
        for batch in conversation_batches(path):
            weights, tokens = score_texts(batch.column("text"), features, log_diff)
            part = pl.DataFrame(
                {"sample_id": batch.column("sample_id"), "source": path.stem, "tokens": tokens}
            )
            parts.append(part.with_columns(
                **{f"log_weight_{d}": pl.Series(weights[:, i]) for i, d in enumerate(domains)}
            ))  # fmt: skip
    weights = pl.concat(parts).with_columns(eligible=pl.col("tokens") >= config.min_tokens)
    eligible = weights.filter("eligible")
    context.log.info(f"{weights.height} samples scored, {eligible.height} eligible, domains {domains}")
    return dg.Output(
        weights,
        metadata={
            "dagster/row_count": weights.height,
            "eligible": eligible.height,
            "domains": ", ".join(domains),
            "target_ngrams": dg.MetadataValue.json(
                dict(zip(domains, target_counts.sum(axis=1).tolist(), strict=True))
            ),
            "raw_ngrams_fitted": int(raw_counts.sum()),
            **{
                f"log_weight_{d}_histogram": dg.MetadataValue.md(
                    markdown_histogram(eligible[f"log_weight_{d}"])
                )
                for d in domains
            },
        },
    )


def domain_quotas(config: FoundationalSetConfig, domains: list[str], target_ngrams: list[int], eligible: int):
    """(k, quota per domain): the requested size, capped at the eligible rows, split by the mixture."""
    requested = config.size if config.size is not None else round(config.fraction * eligible)
    k = min(requested, eligible)
    unknown = sorted(set(config.mixture) - set(domains))
    if unknown:
        raise ValueError(f"mixture names domains {unknown} that have no targets; domains: {domains}")
    shares = [config.mixture.get(d, 0.0) for d in domains] if config.mixture else target_ngrams
    return requested, k, per_domain_quota(k, shares)


@dg.asset(
    ins={
        "dsir_weights": dg.AssetIn(dg.AssetKey("dsir_weights")),
        "benchmark_targets": dg.AssetIn(BENCHMARK_TARGETS),
    },
    kinds={"parquet", "polars"},
    owners=OWNERS,
    group_name="curation",
    code_version=DSIR_CODE_VERSION,
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec("unique_sample_id", asset="foundational_set", blocking=True,
                          description="every sample of F appears once"),
        dg.AssetCheckSpec("no_benchmark_overlap", asset="foundational_set", blocking=True,
                          description="no sample of F shares an n-gram with an eval item (rechecked on F)"),
        dg.AssetCheckSpec("rows_accounted", asset="foundational_set", blocking=True,
                          description="pool rows = selected + not selected + too short"),
    ],
)  # fmt: skip
def foundational_set(
    context: dg.AssetExecutionContext,
    config: FoundationalSetConfig,
    lake: LakeResource,
    dsir_weights: pl.LazyFrame,
    benchmark_targets: pl.LazyFrame,
):
    """The foundational set F: pool samples resampled by DSIR toward the benchmark domains.

    Grain: one row per selected conversation: decontaminated_pool columns plus `dsir_domain` (the target
    domain it was drawn for) and `dsir_log_weight` (its log importance weight for that domain).

    Source: dsir_weights and decontaminated_pool (every partition); benchmark_targets for the default
    mixture (each domain's share of target n-grams).

    Guarantees: Gumbel top-k without replacement per domain, domains in name order, as data-selection's
    resample with separate targets: the same weights and seed give the same rows; only eligible samples;
    each sample once; no sample shares an n-gram with an eval item; every pool row has a `dsir` decision.
    """
    weights = dsir_weights.collect()
    domains = sorted(c.removeprefix("log_weight_") for c in weights.columns if c.startswith("log_weight_"))
    targets = benchmark_targets.filter(pl.col("split") == "target").collect()
    features = NgramFeatures()
    target_ngrams = [
        int(corpus_counts([targets.filter(pl.col("domain") == d)["text"]], features).sum()) for d in domains
    ]
    eligible = weights["eligible"].to_numpy()
    requested, k, quotas = domain_quotas(config, domains, target_ngrams, int(eligible.sum()))
    if k < requested:
        context.log.warning(f"asked for {requested} samples, only {k} are eligible: selecting all of them")
    log_weights = weights.select(f"log_weight_{d}" for d in domains).to_numpy()
    chosen = gumbel_top_k(log_weights, eligible, quotas, config.seed)
    picked_weight = log_weights[np.arange(len(chosen)), np.maximum(chosen, 0)]
    verdicts = weights.select("sample_id").with_columns(
        kept=pl.Series(chosen >= 0),
        dsir_domain=pl.Series(chosen).replace_strict(
            dict(enumerate(domains)), default=None, return_dtype=pl.String
        ),
        dsir_log_weight=pl.Series(picked_weight),
        eligible=pl.Series(eligible),
    )
    return selection_outputs(context, lake, verdicts, quotas, domains, k, benchmark_targets)


def selection_outputs(context, lake, verdicts, quotas, domains, k, benchmark_targets):
    """Write F and the dsir decisions; yield F's output and its checks, all from the written files."""
    pool = pl.scan_parquet(pool_paths(lake))
    staged = lake.staging_path(context.run_id, "foundational_set.parquet")
    chosen = verdicts.filter("kept").select("sample_id", "dsir_domain", "dsir_log_weight")
    write_kept_rows(pool_paths(lake), chosen, staged)

    decisions = verdicts.with_columns(
        reason=pl.when("kept").then(None).when("eligible").then(pl.lit("not_selected")).otherwise(pl.lit("too_short")),
        detail=pl.when("kept").then(pl.format("selected for {}", "dsir_domain"))
        .when("eligible").then(pl.lit("eligible, not drawn by Gumbel top-k"))
        .otherwise(pl.lit("fewer tokens than min_tokens")),
        score=pl.col("dsir_log_weight"),
        ref_id=pl.lit(None, pl.String),
    )  # fmt: skip
    write_decisions(context, lake, "dsir", None, pool, decisions, DSIR_CODE_VERSION)

    selected = pl.read_parquet(staged, columns=["sample_id", "source", "dsir_domain", "dsir_log_weight"])
    eval_items = benchmark_targets.filter(pl.col("split") == "eval").select("benchmark", "item_id", "text")
    leaks = 0
    with Decontaminator(eval_items.collect().to_arrow(), n=DEFAULT_N) as decontaminator:
        for batch in conversation_batches(staged):
            leaks += decontaminator.overlaps(pa.Table.from_batches([batch])).num_rows
    mix = selected.group_by("dsir_domain").agg(
        rows=pl.len(), mean_log_weight=pl.col("dsir_log_weight").mean()
    )
    mix = mix.join(pl.DataFrame({"dsir_domain": domains, "quota": quotas}), on="dsir_domain", how="right")
    by_reason = decisions.group_by("reason").len()
    yield dg.Output(
        StagedParquet(staged),
        metadata={
            "dagster/row_count": selected.height,
            "selected": selected.height,
            "pool_rows": verdicts.height,
            "domain_mix": dg.MetadataValue.md(markdown_table(mix.sort("dsir_domain"))),
            "log_weight_histogram": dg.MetadataValue.md(markdown_histogram(selected["dsir_log_weight"])),
            "by_source": dg.MetadataValue.md(
                markdown_table(selected.group_by("source").len().sort("source"))
            ),
            "path": dg.MetadataValue.path(str(lake.asset_path(dg.AssetKey("foundational_set")))),
        },
    )
    yield dg.AssetCheckResult(
        check_name="unique_sample_id",
        passed=selected["sample_id"].n_unique() == selected.height == k,
        metadata={"rows": selected.height, "distinct": selected["sample_id"].n_unique(), "requested": k},
    )
    yield dg.AssetCheckResult(check_name="no_benchmark_overlap", passed=leaks == 0, metadata={"leaks": leaks})
    dropped = dict(by_reason.filter(pl.col("reason").is_not_null()).iter_rows())
    yield dg.AssetCheckResult(
        check_name="rows_accounted",
        passed=pool.select(pl.len()).collect().item() == selected.height + sum(dropped.values()),
        metadata={"selected": selected.height, **{f"dropped_{r}": n for r, n in dropped.items()}},
    )
