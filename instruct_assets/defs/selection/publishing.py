"""What every selection asset writes: the selected rows with rank and reason, and one decision per
candidate (selected, or not with a reason), plus the check that the selection is what it claims."""

import dagster as dg
import polars as pl

from instruct_assets.defs.curation.source_stage import write_decisions
from instruct_assets.defs.ingest.assets import OWNERS
from instruct_assets.markdown import markdown_histogram, markdown_table
from instruct_assets.resources.lake import LakeResource

FOUNDATIONAL_SET = dg.AssetKey("foundational_set")
SELECTION_KEY_COLUMNS = ["sample_id", "source", "dsir_domain"]


SCORED_POOL = dg.AssetKey("scored_pool")


def selection_asset(
    name: str, code_version: str, kinds: set[str], model_bound: bool = False, **ins: dg.AssetKey
):
    """The asset decorator every selection shares: it reads scored_pool (and `ins`), runs in the `gpu`
    pool when it calls a model, follows its inputs eagerly, and carries the `valid_selection` check."""
    return dg.asset(
        name=name,
        ins={"scored_pool": dg.AssetIn(SCORED_POOL), **{arg: dg.AssetIn(key) for arg, key in ins.items()}},
        kinds=kinds,
        owners=OWNERS,
        group_name="selection",
        pool="gpu" if model_bound else None,
        code_version=code_version,
        automation_condition=dg.AutomationCondition.eager(),
        check_specs=[
            dg.AssetCheckSpec(
                "valid_selection",
                asset=name,
                blocking=True,
                description="distinct samples of scored_pool, as many as the budget allows, ranks 1..n, "
                "and a decision for every candidate",
            )
        ],
    )


def publish_selection(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    scored: pl.DataFrame,
    picks: pl.DataFrame,
    rejected: pl.DataFrame | None,
    expected: int,
    code_version: str,
):
    """Yield the selection's Output and its check.

    scored: the candidates (scored_pool rows: sample_id, source, dsir_domain, ...).
    picks: sample_id, rank (1 = first picked), score, detail (why), plus method columns.
    rejected: sample_id, reason, detail, score for candidates excluded with a reason of their own;
    every other candidate that was not picked is `not_selected`.
    expected: how many picks the budget allows on this pool.
    """
    stage = context.asset_key.to_user_string()
    selected = scored.select(SELECTION_KEY_COLUMNS).join(picks, on="sample_id", how="inner").sort("rank")
    verdicts = pl.concat(
        [
            picks.select("sample_id", "score", "detail", kept=pl.lit(True), reason=pl.lit(None, pl.String)),
            *(
                []
                if rejected is None
                else [rejected.select("sample_id", "score", "detail", "reason", kept=pl.lit(False))]
            ),
        ],
        how="diagonal",
    )
    others = scored.select("sample_id").join(verdicts, on="sample_id", how="anti")
    verdicts = pl.concat(
        [
            verdicts,
            others.with_columns(
                kept=pl.lit(False), reason=pl.lit("not_selected"), detail=pl.lit(None, pl.String)
            ),
        ],
        how="diagonal",
    ).with_columns(ref_id=pl.lit(None, pl.String))
    if "ref_id" in picks.columns:
        verdicts = verdicts.drop("ref_id").join(
            picks.select("sample_id", "ref_id"), on="sample_id", how="left"
        )
    write_decisions(
        context, lake, stage, None, pl.scan_parquet(lake.asset_path(FOUNDATIONAL_SET)), verdicts, code_version
    )

    by_reason = verdicts.filter(~pl.col("kept")).group_by("reason").len().sort("reason")
    valid = (
        selected.height == picks.height == expected
        and selected["sample_id"].n_unique() == selected.height
        and selected["rank"].to_list() == list(range(1, selected.height + 1))
        and verdicts.height == scored.height
    )
    yield dg.Output(
        selected,
        metadata={
            "dagster/row_count": selected.height,
            "budget": expected,
            "candidates": scored.height,
            "not_selected_by_reason": dg.MetadataValue.md(markdown_table(by_reason)),
            "by_domain": dg.MetadataValue.md(
                markdown_table(selected.group_by("dsir_domain").len().sort("dsir_domain"))
            ),
            "score_histogram": dg.MetadataValue.md(markdown_histogram(selected["score"].drop_nulls())),
            "top": dg.MetadataValue.md(
                markdown_table(selected.head(10).select("rank", "sample_id", "score", "detail"))
            ),
        },
    )
    yield dg.AssetCheckResult(
        check_name="valid_selection",
        passed=valid,
        metadata={"selected": selected.height, "expected": expected, "decisions": verdicts.height},
    )
