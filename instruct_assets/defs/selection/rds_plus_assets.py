import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from instruct_assets.defs.curation.benchmark_assets import BENCHMARK_TARGETS
from instruct_assets.defs.selection.config import SelectionConfig
from instruct_assets.defs.selection.publishing import publish_selection, selection_asset
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.llm import LLMResource
from instruct_assets.selection.rds_plus import AGGREGATIONS, round_robin, task_similarity
from instruct_assets.versioning import code_version_of

RDS_PLUS_CODE_VERSION = code_version_of(
    PROJECT_ROOT / "instruct_assets" / "selection" / "rds_plus.py",
    PROJECT_ROOT / "instruct_assets" / "defs" / "selection" / "rds_plus_assets.py",
    PROJECT_ROOT / "instruct_assets" / "defs" / "selection" / "publishing.py",
)


class RdsPlusConfig(SelectionConfig):
    queries_per_task: int = Field(16, description="query examples per target domain (the first by item_id)")
    aggregate: str = Field(
        "max", description=f"one of {AGGREGATIONS}: how a task scores a sample over its queries"
    )


def query_examples(targets: pl.DataFrame, per_task: int) -> pl.DataFrame:
    """The first `per_task` target items of each domain by item_id: a fixed, reproducible query set."""
    return (
        targets.filter(pl.col("split") == "target")
        .sort("domain", "item_id")
        .group_by("domain", maintain_order=True)
        .head(per_task)
    )


@selection_asset(
    "rds_plus_selection",
    RDS_PLUS_CODE_VERSION,
    {"pytorch", "parquet"},
    model_bound=True,
    benchmark_targets=BENCHMARK_TARGETS,
)
def rds_plus_selection(
    context: dg.AssetExecutionContext,
    config: RdsPlusConfig,
    lake: LakeResource,
    llm: LLMResource,
    scored_pool: pl.LazyFrame,
    benchmark_targets: pl.LazyFrame,
):
    """RDS+ (paper 004): the samples whose LM representation is closest to each target task's examples.

    Grain: one row per selected sample: sample_id, source, dsir_domain, rank, score (cosine to the task it
    was picked for), task, round, ref_id (the query item it is closest to), detail.

    Source: scored_pool (`lm_embedding`: position-weighted mean of the LM's final hidden states over
    prompt and response); the first `queries_per_task` target items per domain of benchmark_targets,
    embedded by the same LLM.

    Guarantees: cosine similarity, reduced per task by `aggregate` (max, as the reference); tasks take
    turns in name order, each taking its best sample not yet selected, until the budget is met; the pool
    must have been scored by the configured LLM (a representation from another model is refused).
    """
    scored = scored_pool.select("sample_id", "source", "dsir_domain", "lm_embedding", "llm_model").collect()
    models = scored["llm_model"].unique().to_list()
    if scored.height and models != [llm.model]:
        raise ValueError(
            f"scored_pool was scored by {models}, the llm resource is {llm.model!r}: re-materialize "
            "scored_pool so queries and pool share one representation space"
        )
    queries = query_examples(benchmark_targets.collect(), config.queries_per_task)
    backend = llm.load()
    encoded = [backend.encoder.encode_query(text) for text in queries["text"]]
    query_vectors = backend.pooled_hidden_states(encoded) if encoded else np.zeros((0, 0), np.float32)
    rows_by_task = {
        task: np.flatnonzero((queries["domain"] == task).to_numpy())
        for task in queries["domain"].unique().sort()
    }
    by_task = {task: query_vectors[rows] for task, rows in rows_by_task.items()}
    pool = scored["lm_embedding"].to_numpy()
    tasks, scores = task_similarity(pool, by_task, aggregate=config.aggregate)
    budget = config.budget_for(scored.height)
    picks = round_robin(scores, budget)
    task_names = np.array(tasks, dtype=object)[picks.task]
    unit = {
        task: v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12) for task, v in by_task.items()
    }
    nearest = [
        queries["item_id"][int(rows_by_task[task][np.argmax(unit[task] @ pool[i])])]
        for task, i in zip(task_names, picks.index, strict=True)
    ]
    context.log.info(f"{len(picks)} picked round-robin over {tasks} from {scored.height} samples")
    selected = pl.DataFrame(
        {
            "sample_id": scored["sample_id"].gather(picks.index),
            "rank": picks.rank.astype(np.int32),
            "score": picks.score.astype(np.float64),
            "task": list(task_names),
            "round": picks.round.astype(np.int32),
            "ref_id": nearest,
        }
    ).with_columns(
        detail=pl.format("rank {}: task {}, round {}, closest query {}", "rank", "task", "round", "ref_id")
    )
    yield from publish_selection(context, lake, scored, selected, None, budget, RDS_PLUS_CODE_VERSION)
