import dagster as dg
import polars as pl

from instruct_assets.defs.ingest.assets import OWNERS
from instruct_assets.defs.scoring.chunked_scoring import score_missing
from instruct_assets.defs.scoring.config import ScoredPoolConfig
from instruct_assets.markdown import markdown_histogram, markdown_table
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.llm import EmbedderResource, LLMResource
from instruct_assets.scoring.ifd import ifd_frame
from instruct_assets.scoring.score_cache import ScoreCache
from instruct_assets.versioning import code_version_of

MODELS = PROJECT_ROOT / "instruct_assets" / "models"
LLM_SCORING_CODE_VERSION = code_version_of(
    MODELS / "chat_encoding.py",
    MODELS / "transformers_lm.py",
    PROJECT_ROOT / "instruct_assets" / "scoring" / "ifd.py",
)
EMBEDDING_CODE_VERSION = code_version_of(MODELS / "sentence_embedder.py")
SCORED_POOL_CODE_VERSION = code_version_of(PROJECT_ROOT / "instruct_assets" / "defs" / "scoring")


def llm_cache(lake: LakeResource, llm: LLMResource, model: str | None = None) -> ScoreCache:
    return ScoreCache(lake, "llm", f"{llm.scoring_key(model)}-{LLM_SCORING_CODE_VERSION}")


def score_with_llm(llm: LLMResource, model: str | None = None):
    """A chunk scorer: IFD, perplexities and the RDS+ vector of each conversation in `messages`."""

    def score_chunk(chunk: pl.DataFrame) -> pl.DataFrame:
        backend = llm.load(model)
        encoded = backend.encoder.encode_all(chunk["messages"].to_list())
        return ifd_frame(encoded, backend.response_logprobs(encoded, pooled=True))

    return score_chunk


@dg.asset(
    ins={"foundational_set": dg.AssetIn(dg.AssetKey("foundational_set"))},
    kinds={"pytorch", "parquet"},
    owners=OWNERS,
    group_name="scoring",
    pool="gpu",
    code_version=f"{SCORED_POOL_CODE_VERSION}-{LLM_SCORING_CODE_VERSION}-{EMBEDDING_CODE_VERSION}",
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec("every_sample_scored", asset="scored_pool", blocking=True,
                          description="one row per sample of F, each with a finite IFD and both embeddings"),
    ],
)  # fmt: skip
def scored_pool(
    context: dg.AssetExecutionContext,
    config: ScoredPoolConfig,
    lake: LakeResource,
    llm: LLMResource,
    embedder: EmbedderResource,
    foundational_set: pl.LazyFrame,
):
    """Model scores of every sample of F: the candidates that the selections choose from.

    Grain: one row per sample of foundational_set: sample_id, source, dsir_domain, response_chars,
    prompt_tokens, response_tokens, truncated, nll_conditional, nll_unconditional, ppl_conditional
    (PPL(y|x)), ppl_response (PPL(y)), ifd (their ratio), lm_embedding (RDS+: position-weighted mean of
    the LM's final hidden states over prompt and response), embedding (the sentence embedder's unit
    vector of the prompt), and the two model ids.

    Source: foundational_set; the `llm` and `embedder` resources.

    Guarantees: the first exchange of each conversation in the model's chat template, loss on response
    tokens only (end-of-turn included), context cut from the left and responses cut at
    max_response_tokens (flagged `truncated`); scores are cached by (sample_id, model weights, precision,
    truncation, code version), so a refresh scores only samples it has not scored before.
    """
    samples = foundational_set.select(
        "sample_id", "source", "dsir_domain", "messages", "prompt", "response_chars"
    ).collect()
    lm_scores = llm_cache(lake, llm)
    newly_scored = score_missing(context, lm_scores, samples, score_with_llm(llm), config.chunk_rows, "llm")
    embeddings = ScoreCache(lake, "embedder", f"{embedder.scoring_key()}-{EMBEDDING_CODE_VERSION}")

    def embed_chunk(chunk: pl.DataFrame) -> pl.DataFrame:
        return pl.DataFrame({"embedding": embedder.load().embed(chunk["prompt"].to_list())})

    newly_embedded = score_missing(context, embeddings, samples, embed_chunk, config.chunk_rows, "embedder")
    scored = (
        samples.drop("messages", "prompt")
        .join(lm_scores.scan().collect(), on="sample_id", how="left", maintain_order="left")
        .join(embeddings.scan().collect(), on="sample_id", how="left", maintain_order="left")
        .with_columns(llm_model=pl.lit(llm.model), embedder_model=pl.lit(embedder.model))
    )
    complete = scored.filter(
        pl.col("ifd").is_finite() & pl.col("lm_embedding").is_not_null() & pl.col("embedding").is_not_null()
    )
    yield dg.Output(
        scored,
        metadata={
            "dagster/row_count": scored.height,
            "newly_scored": newly_scored,
            "newly_embedded": newly_embedded,
            "llm": f"{llm.backend}:{llm.model} ({llm.dtype})",
            "embedder": embedder.model,
            "ifd_below_1": scored.filter(pl.col("ifd") < 1).height,
            "truncated": int(scored["truncated"].sum()),
            "ifd_histogram": dg.MetadataValue.md(markdown_histogram(scored["ifd"].drop_nans().drop_nulls())),
            "by_domain": dg.MetadataValue.md(
                markdown_table(
                    scored.group_by("dsir_domain")
                    .agg(
                        rows=pl.len(),
                        mean_ifd=pl.col("ifd").mean(),
                        mean_ppl=pl.col("ppl_conditional").mean(),
                    )
                    .sort("dsir_domain")
                )
            ),
        },
    )
    yield dg.AssetCheckResult(
        check_name="every_sample_scored",
        passed=complete.height == scored.height == samples.height,
        metadata={"samples": samples.height, "complete": complete.height},
    )
