"""What every evaluation asset does: evaluate one model, log one MLflow run with its lineage, and
publish the per-item results."""

import tempfile
from pathlib import Path

import dagster as dg
import polars as pl

from instruct_assets.defs.curation.benchmark_assets import BENCHMARK_TARGETS
from instruct_assets.defs.evaluation.config import EvaluationConfig
from instruct_assets.defs.evaluation.dev_set_assets import INSTRUCTION_DEV_SET
from instruct_assets.defs.model_bound import model_bound_asset
from instruct_assets.defs.training.asset_versions import AssetVersion, derived_version, latest_version
from instruct_assets.evaluation.judge import load_judge_template
from instruct_assets.evaluation.suite import run_evaluation
from instruct_assets.markdown import markdown_table
from instruct_assets.models.model_files import folder_fingerprint
from instruct_assets.paths import PROJECT_ROOT, resolve_project_path
from instruct_assets.plots import bar_figure
from instruct_assets.resources.llm import LLMResource
from instruct_assets.resources.mlflow_tracking import MLflowResource
from instruct_assets.resources.run_tags import lineage_tags
from instruct_assets.versioning import code_version_of

EVALUATION_CODE_VERSION = code_version_of(
    PROJECT_ROOT / "instruct_assets" / "evaluation",
    PROJECT_ROOT / "instruct_assets" / "defs" / "evaluation" / "checkpoint_evaluation.py",
    PROJECT_ROOT / "resources" / "prompts" / "judge.txt",
)
EVALUATION_INPUTS = {
    "benchmark_targets": dg.AssetIn(BENCHMARK_TARGETS),
    "instruction_dev_set": dg.AssetIn(INSTRUCTION_DEV_SET),
}


def evaluation_asset(name: str, **kwargs):
    """The decorator evaluation assets share: model-bound, one row per item evaluated."""
    return model_bound_asset(name, "evaluation", EVALUATION_CODE_VERSION, {"pytorch", "mlflow"}, **kwargs)


def evaluate_model(
    context: dg.AssetExecutionContext,
    config: EvaluationConfig,
    llm: LLMResource,
    mlflow: MLflowResource,
    benchmark_targets: pl.LazyFrame,
    instruction_dev_set: pl.LazyFrame,
    model: str,
    checkpoint: AssetVersion | None,
    checkpoint_row: dict | None,
) -> dg.Output[pl.DataFrame]:
    """Evaluate `model` (a checkpoint folder, or the llm resource's model) and yield the asset's Output."""
    partition = context.partition_key if context.has_partition_key else None
    asset = context.asset_key.to_user_string()
    dev = instruction_dev_set.collect()
    result = run_evaluation(
        llm.load(model),
        llm.load(config.judge_model or llm.model),
        benchmark_targets.collect(),
        dev["messages"].to_list(),
        dev["sample_id"].to_list(),
        config.settings(),
        load_judge_template(resolve_project_path(config.judge_template)),
        progress=lambda line: context.log.info(f"{asset}: {line}"),
    )
    inputs = [latest_version(context.instance, key) for key in (BENCHMARK_TARGETS, INSTRUCTION_DEV_SET)]
    evaluated = checkpoint.data_version if checkpoint else folder_fingerprint(llm.folder(model))
    data_version = derived_version(
        evaluated, [v.as_dict() for v in inputs], config.model_dump(), EVALUATION_CODE_VERSION
    )
    row = checkpoint_row or {}
    tags = lineage_tags(
        "evaluation", asset, partition, data_version, EVALUATION_CODE_VERSION, context.run_id,
        checkpoint=checkpoint.label if checkpoint else f"base:{model}",
        checkpoint_data_version=evaluated,
        training_set=",".join(row.get("training_sets") or []),
        method=row.get("method", "base"),
        training_samples=str(row.get("samples", 0)),
    )  # fmt: skip
    dev_losses = {
        k.removeprefix("dev_loss/"): v for k, v in result.metrics.items() if k.startswith("dev_loss/")
    }
    accuracies = {
        k.removeprefix("accuracy/"): v for k, v in result.metrics.items() if k.startswith("accuracy/")
    }
    figures = {"dev_loss": bar_figure(f"{asset}: dev loss", dev_losses, "NLL per token")}
    if accuracies:
        figures["accuracy"] = bar_figure(f"{asset}: log-likelihood accuracy", accuracies, "accuracy")
    with tempfile.TemporaryDirectory() as scratch:
        items_file = Path(scratch) / "items.parquet"
        result.items.write_parquet(items_file)
        run = mlflow.record_run(
            run_name=f"eval {checkpoint.label if checkpoint else 'base'}",
            tags=tags,
            params={**config.model_dump(), "model": model},
            metrics=result.metrics,
            figures=figures,
            artifacts={"": items_file},
        )
    summary = pl.DataFrame({"metric": list(result.metrics), "value": list(result.metrics.values())})
    return dg.Output(
        result.items,
        data_version=dg.DataVersion(data_version),
        metadata={
            "dagster/row_count": result.items.height,
            "model": model,
            "metrics": dg.MetadataValue.md(markdown_table(summary)),
            **{k: float(v) for k, v in result.metrics.items() if k in HEADLINE_METRICS},
            **run.metadata(),
        },
    )


HEADLINE_METRICS = ("dev_loss/instruction", "dev_loss/benchmarks_mean", "accuracy/mean", "judge/score")
