"""The quality tables: what the evaluation runs in MLflow say about the selections and the stages.

A pure function of the runs frame (`MLflowResource.runs(role="evaluation")`, one row per run, tags and
metrics as columns), so it is tested without MLflow. Each row is the LATEST finished evaluation of one
(asset_key, partition), shown with its MLflow run id and data version so a reader can trace it.
"""

import math
from dataclasses import dataclass

import polars as pl

from instruct_assets.defs.training.training_sets import SELECTION_METHODS  # the partitions, random first
from instruct_assets.markdown import markdown_table

SELECTION_EVAL = "selection_eval"
BASELINE_METHOD = "random"
STAGE_EVALS = {
    "eval_base": "base model, no SFT",
    "eval_f": "stage 1 only (F)",
    "eval_stage2": "two-stage (F, then stage 2)",
    "eval_mixed": "one mixed stage (F + stage 2)",
}
OPTIONAL_EVALS = ("eval_base",)
TWO_STAGE, MIXED = "eval_stage2", "eval_mixed"
DOMAINS = ("math", "code", "knowledge", "other")
HEADLINE = ("dev_loss/instruction", "dev_loss/benchmarks_mean")
COMPARED = ("dev_loss/instruction", "dev_loss/benchmarks_mean", "accuracy/mean")
TRACE = ("run_id", "data_version")
FOOTER = (
    "Δ = the row minus random (selection table), two-stage minus mixed (stage table).",
    "dev_loss/*: mean NLL per response token, lower is better: a negative Δ is better.",
    "accuracy/*, exact_match/*: share correct (0..1), judge/score (1..5): higher is better: a positive Δ is "
    "better.",
    "One evaluation per row: a Δ smaller than the run-to-run spread (re-train with another seed to see it) "
    "is not evidence either way.",
)


@dataclass(frozen=True)
class QualityTables:
    """selection: one row per method of selection_eval, random first, with Δ vs random; stages: the stage
    evaluations present, then a row of two-stage minus mixed; readout: one factual line per comparison;
    missing: one line per evaluation not found, with the command that makes it."""

    selection: pl.DataFrame
    stages: pl.DataFrame
    readout: list[str]
    missing: list[str]
    evaluations: int


def latest_evaluations(runs: pl.DataFrame) -> pl.DataFrame:
    """The evaluation runs, latest per (asset_key, partition); missing tag columns become nulls."""
    for column in ("role", "asset_key", "partition", "training_samples", *TRACE):
        if column not in runs.columns:
            runs = runs.with_columns(pl.lit(None, pl.String).alias(column))
    evaluations = runs.filter(pl.col("role").is_null() | (pl.col("role") == "evaluation"))
    return (
        evaluations.with_columns(
            pl.col("partition").fill_null(""),
            pl.col("training_samples").cast(pl.Int64, strict=False),
        )
        .sort("start_time", "run_id")
        .group_by("asset_key", "partition", maintain_order=True)
        .last()
    )


def metric_columns(runs: pl.DataFrame) -> list[str]:
    """The table's metric columns, those with a value in `runs`: the headline dev losses, the per-domain
    dev losses, accuracy/mean, exact_match/*, judge/score."""
    present = [c for c in runs.columns if runs[c].null_count() < runs.height]
    domains = [f"dev_loss/{d}" for d in DOMAINS]
    others = sorted(c for c in present if c.startswith("dev_loss/") and c not in (*HEADLINE, *domains))
    exact = sorted(c for c in present if c.startswith("exact_match/"))
    wanted = [*HEADLINE, *domains, *others, "accuracy/mean", *exact, "judge/score"]
    return [c for c in wanted if c in present]


def quality_tables(runs: pl.DataFrame) -> QualityTables:
    """Both tables from a runs frame; never raises for missing evaluations, it lists them."""
    latest = latest_evaluations(runs)
    missing, readout = [], []

    selection = latest.filter(pl.col("asset_key") == SELECTION_EVAL)
    metrics = metric_columns(selection)
    compared = [c for c in COMPARED if c in metrics]
    methods = selection["partition"].to_list()
    order = [m for m in SELECTION_METHODS if m in methods] + sorted(set(methods) - set(SELECTION_METHODS))
    selection = (
        selection.join(pl.DataFrame({"partition": order, "_order": range(len(order))}), on="partition")
        .sort("_order")
        .select(pl.col("partition").alias("method"), "training_samples", *metrics, *TRACE)
    )
    missing += [
        f"{SELECTION_EVAL}[{m}]: no finished evaluation run; make it: dg launch --assets "
        f"{SELECTION_EVAL} --partition {m}"
        for m in SELECTION_METHODS
        if m not in methods
    ]
    baseline = selection.filter(pl.col("method") == BASELINE_METHOD)
    if baseline.height:
        selection = selection.with_columns(
            (pl.col(c) - baseline[c][0]).alias(f"Δ {c}") for c in compared
        ).select("method", "training_samples", *metrics, *(f"Δ {c}" for c in compared), *TRACE)
        for row in selection.filter(pl.col("method") != BASELINE_METHOD).iter_rows(named=True):
            readout.append(compare_line(f"{row['method']} vs random", row, compared))
        budgets = selection["training_samples"].drop_nulls().unique().sort().to_list()
        if len(budgets) > 1:
            readout.append(f"training samples differ between methods ({budgets}): not an equal budget")

    stages = latest.filter(pl.col("asset_key").is_in(list(STAGE_EVALS)) & (pl.col("partition") == ""))
    present = stages["asset_key"].to_list()
    metrics = metric_columns(stages)
    compared = [c for c in COMPARED if c in metrics]
    stages = (
        pl.DataFrame({"asset_key": list(STAGE_EVALS), "stage": list(STAGE_EVALS.values())})
        .join(stages, on="asset_key", how="inner", maintain_order="left")
        .select("asset_key", "stage", "training_samples", *metrics, *TRACE)
    )
    missing += [
        f"{key}: no finished evaluation run{' (optional reference row)' if key in OPTIONAL_EVALS else ''}; "
        f"make it: dg launch --assets {key}"
        for key in STAGE_EVALS
        if key not in present
    ]
    if TWO_STAGE in present and MIXED in present:
        first, second = (
            stages.filter(pl.col("asset_key") == key).row(0, named=True) for key in (TWO_STAGE, MIXED)
        )
        difference = {c: none_safe_difference(first[c], second[c]) for c in metrics}
        delta_row = pl.DataFrame(
            [{"asset_key": "Δ", "stage": "two-stage minus mixed", **difference}],
            schema={c: stages.schema[c] for c in ("asset_key", "stage", *metrics)},
        )
        stages = pl.concat([stages, delta_row], how="diagonal")
        readout.append(
            compare_line("two-stage vs mixed", {f"Δ {c}": difference[c] for c in compared}, compared)
        )
    return QualityTables(selection, stages, readout, missing, evaluations=latest.height)


def none_safe_difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def compare_line(title: str, row: dict, compared: list[str]) -> str:
    """`rds_plus vs random: dev_loss/instruction -0.0312 (better), accuracy/mean -0.0100 (worse)`."""
    parts = []
    for metric in compared:
        delta = row.get(f"Δ {metric}")
        if delta is None or math.isnan(delta):
            parts.append(f"{metric} n/a")
            continue
        lower_is_better = metric.startswith("dev_loss/")
        verdict = "equal" if delta == 0 else "better" if (delta < 0) == lower_is_better else "worse"
        parts.append(f"{metric} {delta:+.4f} ({verdict})")
    return f"{title}: " + ", ".join(parts)


def formatted(frame: pl.DataFrame) -> pl.DataFrame:
    """Floats to 4 decimals (signed in Δ columns and in a row whose first cell is Δ), nulls as "—"."""

    def text(value, signed: bool) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            return f"{value:+.4f}" if signed else f"{value:.4f}"
        return str(value)

    rows = [
        [text(v, name.startswith("Δ") or row[0] == "Δ") for name, v in zip(frame.columns, row, strict=True)]
        for row in frame.iter_rows()
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(frame.columns, pl.String), orient="row")


def render_quality_report(tables: QualityTables) -> str:
    """The report as markdown: both tables, the readout lines, what is missing, how to read it."""
    lines = [
        "## Selection vs random at equal budget (selection_eval)",
        "",
        markdown_table(formatted(tables.selection), empty="no selection_eval runs"),
        "",
        "## Two-stage vs one mixed stage",
        "",
        markdown_table(formatted(tables.stages), empty="no stage evaluation runs"),
        "",
    ]
    if tables.readout:
        lines += ["What the numbers say:", *(f"- {line}" for line in tables.readout), ""]
    if tables.missing:
        lines += ["Missing evaluations:", *(f"- {line}" for line in tables.missing), ""]
    lines += ["How to read it:", *(f"- {line}" for line in FOOTER)]
    return "\n".join(lines)
