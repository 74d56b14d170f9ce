"""One checkpoint's evaluation: every metric over capped, deterministic item sets (docs/evaluation.md).

Metric names (a metric whose item set is empty is absent, never NaN):
    dev_loss/instruction        mean NLL per token of the instruction dev answers
    dev_loss/<domain>           mean over the items of that domain's benchmarks (items with a reference)
    dev_loss/benchmarks_mean    mean of the domain losses
    accuracy/<benchmark>, accuracy_norm/<benchmark>   benchmarks with choices (acc, acc_norm)
    accuracy/mean               mean of accuracy/<benchmark>
    exact_match/<benchmark>     benchmarks with a short `answer`, when exact_match_items > 0
    judge/score                 mean expected judge score (1-5) of the checkpoint's dev answers
    eval/items_<kind>           rows of each kind in `items` (always present, 0 when none)
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from instruct_assets.evaluation.choices import choice_accuracy
from instruct_assets.evaluation.dev_loss import conversation_nll
from instruct_assets.evaluation.exact_match import exact_match
from instruct_assets.evaluation.exchanges import exchange
from instruct_assets.evaluation.judge import judge_scores
from instruct_assets.models.chat_encoding import first_exchange
from instruct_assets.models.llm_backend import LLMBackend

INSTRUCTION = "instruction"  # benchmark and domain of the instruction dev set's rows
KINDS = ("dev_loss", "choice", "exact_match", "judge")
ITEMS_SCHEMA = pl.Schema(
    {
        "kind": pl.String,  # one of KINDS
        "benchmark": pl.String,
        "domain": pl.String,
        "item_id": pl.String,
        "value": pl.Float64,  # dev_loss: NLL per token; choice, exact_match: 1.0 or 0.0; judge: 1..5
        "prediction": pl.String,  # choice: the predicted choice; exact_match, judge: the generation
        "reference": pl.String,  # the reference answer, the right choice, or the short answer
    }
)
REQUIRED_COLUMNS = (
    "benchmark",
    "domain",
    "item_id",
    "split",
    "prompt",
    "reference",
    "choices",
    "correct_choice",
    "answer",
)


@dataclass(frozen=True)
class EvaluationSettings:
    """How many items each metric uses: caps, so fewer available items are all used."""

    dev_samples: int = 24  # instruction dev conversations used (first n, in given order)
    items_per_benchmark: int = 16  # eval items per benchmark for dev loss and choices (first n by item_id)
    exact_match_items: int = 4  # per benchmark that has `answer`; 0 disables generation
    judge_items: int = 4  # instruction dev prompts answered by the checkpoint and judged; 0 disables
    max_new_tokens: int = 96  # generation length for exact match and judged answers

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"EvaluationSettings.{field.name} must be a non-negative integer (got {value!r})"
                )
        if self.max_new_tokens < 1:
            raise ValueError("EvaluationSettings.max_new_tokens must be at least 1")


@dataclass
class EvaluationResult:
    metrics: dict[str, float]  # names in the module docstring, in a fixed order
    items: pl.DataFrame  # ITEMS_SCHEMA: one row per evaluated item and kind


def first_per_benchmark(items: pl.DataFrame, count: int) -> pl.DataFrame:
    """The first `count` rows of each benchmark by item_id; benchmarks in order of first appearance."""
    groups = [
        group.sort("item_id").head(count) for _, group in items.group_by("benchmark", maintain_order=True)
    ]
    return pl.concat(groups) if groups and count else items.clear()


def run_evaluation(
    backend: LLMBackend,
    judge_backend: LLMBackend,
    benchmark_items: pl.DataFrame,
    dev_conversations: Sequence[list[dict]],
    dev_ids: Sequence[str],
    settings: EvaluationSettings,
    judge_template: str,
    progress: Callable[[str], None] | None = None,
) -> EvaluationResult:
    """Every metric of `backend` (the checkpoint) on the `eval` split of `benchmark_items` (rows of
    benchmark_targets) and the instruction dev conversations; `judge_backend` grades generated answers.

    Deterministic for deterministic backends: item sets are fixed prefixes, generation is greedy.
    Raises ValueError when dev_ids and dev_conversations differ in length or a column is missing.
    """
    if len(dev_ids) != len(dev_conversations):
        raise ValueError(f"{len(dev_ids)} dev ids for {len(dev_conversations)} dev conversations")
    missing = [c for c in REQUIRED_COLUMNS if c not in benchmark_items.columns]
    if missing:
        raise ValueError(
            f"benchmark items lack {', '.join(missing)}: re-materialize benchmark_targets "
            "with this code version"
        )
    eval_items = benchmark_items.filter(pl.col("split") == "eval")
    dev = list(zip(dev_ids, dev_conversations, strict=True))
    metrics: dict[str, float] = {}
    subset = first_per_benchmark(eval_items, settings.items_per_benchmark)
    steps = [
        ("dev_loss", lambda: _dev_loss(backend, dev[: settings.dev_samples], subset, metrics)),
        ("choice", lambda: _choices(backend, subset.filter(pl.col("choices").is_not_null()), metrics)),
    ]
    if settings.exact_match_items:
        answerable = first_per_benchmark(
            eval_items.filter(pl.col("answer").is_not_null()), settings.exact_match_items
        )
        steps.append(("exact_match", lambda: _exact_match(backend, answerable, settings, metrics)))
    if settings.judge_items:
        judged = dev[: settings.judge_items]
        steps.append(
            ("judge", lambda: _judge(backend, judge_backend, judged, settings, judge_template, metrics))
        )
    parts = []
    for kind, step in steps:
        started = time.perf_counter()
        parts.append(step())
        if progress:
            progress(f"{kind}: {parts[-1].height} items in {time.perf_counter() - started:.1f} s")
    items = pl.concat([ITEMS_SCHEMA.to_frame(), *parts])
    for kind in KINDS:
        metrics[f"eval/items_{kind}"] = float((items["kind"] == kind).sum())
    return EvaluationResult(metrics, items)


def _item_rows(kind: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame`'s benchmark, domain, item_id, value, prediction, reference as rows of `kind`."""
    return frame.select(
        pl.lit(kind).alias("kind"),
        *(pl.col(name).cast(dtype) for name, dtype in ITEMS_SCHEMA.items() if name != "kind"),
    )


def _instruction_rows(kind: str, dev, values, predictions, references) -> pl.DataFrame:
    return _item_rows(
        kind,
        pl.DataFrame(
            {
                "benchmark": [INSTRUCTION] * len(dev),
                "domain": [INSTRUCTION] * len(dev),
                "item_id": [item_id for item_id, _ in dev],
                "value": np.asarray(values, dtype=np.float64),
                "prediction": pl.Series(predictions, dtype=pl.String),
                "reference": pl.Series(references, dtype=pl.String),
            }
        ),
    )


def _dev_loss(backend, dev, subset: pl.DataFrame, metrics: dict) -> pl.DataFrame:
    """Instruction dev answers and benchmark references (items that have one), in one batched call."""
    scored = subset.filter(pl.col("reference") != "")
    references = [first_exchange(conversation)[1] for _, conversation in dev]
    pairs = [exchange(p, r) for p, r in scored.select("prompt", "reference").iter_rows()]
    nll = conversation_nll(backend, [c for _, c in dev] + pairs)
    if dev:
        metrics[f"dev_loss/{INSTRUCTION}"] = float(np.mean(nll[: len(dev)]))
    benchmark_rows = scored.with_columns(
        value=pl.Series(nll[len(dev) :], dtype=pl.Float64), prediction=pl.lit(None, dtype=pl.String)
    )
    by_domain = benchmark_rows.group_by("domain", maintain_order=True).agg(pl.col("value").mean())
    for domain, value in by_domain.iter_rows():
        metrics[f"dev_loss/{domain}"] = float(value)
    if by_domain.height:
        metrics["dev_loss/benchmarks_mean"] = float(by_domain["value"].mean())
    return pl.concat(
        [
            _instruction_rows("dev_loss", dev, nll[: len(dev)], [None] * len(dev), references),
            _item_rows("dev_loss", benchmark_rows),
        ]
    )


def _choices(backend, items: pl.DataFrame, metrics: dict) -> pl.DataFrame:
    """Accuracy and accuracy_norm per benchmark; a row's prediction is the choice `acc` picked."""
    if not items.height:
        return ITEMS_SCHEMA.to_frame()
    choices, correct = items["choices"].to_list(), items["correct_choice"].to_list()
    result = choice_accuracy(backend, items["prompt"].to_list(), choices, correct)
    scored = items.with_columns(
        value=pl.Series(result.is_correct, dtype=pl.Float64),
        value_norm=pl.Series(result.is_correct_norm, dtype=pl.Float64),
        prediction=pl.Series([c[p] for c, p in zip(choices, result.predicted, strict=True)]),
        reference=pl.Series([c[k] for c, k in zip(choices, correct, strict=True)]),
    )
    per_benchmark = scored.group_by("benchmark", maintain_order=True).agg(
        pl.col("value", "value_norm").mean()
    )
    for benchmark, accuracy, accuracy_norm in per_benchmark.iter_rows():
        metrics[f"accuracy/{benchmark}"] = float(accuracy)
        metrics[f"accuracy_norm/{benchmark}"] = float(accuracy_norm)
    metrics["accuracy/mean"] = float(per_benchmark["value"].mean())
    return _item_rows("choice", scored)


def _exact_match(backend, items: pl.DataFrame, settings: EvaluationSettings, metrics: dict) -> pl.DataFrame:
    if not items.height:
        return ITEMS_SCHEMA.to_frame()
    generations, matches = exact_match(
        backend, items["prompt"].to_list(), items["answer"].to_list(), settings.max_new_tokens
    )
    scored = items.with_columns(
        value=pl.Series(matches, dtype=pl.Float64),
        prediction=pl.Series(generations, dtype=pl.String),
        reference=pl.col("answer"),
    )
    per_benchmark = scored.group_by("benchmark", maintain_order=True).agg(pl.col("value").mean())
    for benchmark, value in per_benchmark.iter_rows():
        metrics[f"exact_match/{benchmark}"] = float(value)
    return _item_rows("exact_match", scored)


def _judge(
    backend, judge_backend, dev, settings: EvaluationSettings, template: str, metrics: dict
) -> pl.DataFrame:
    """The checkpoint answers the dev prompts (greedy); the judge grades each against the dev answer."""
    if not dev:
        return ITEMS_SCHEMA.to_frame()
    exchanges = [first_exchange(conversation) for _, conversation in dev]
    answers = backend.generate(
        [context for context, _ in exchanges], max_new_tokens=settings.max_new_tokens, temperature=0.0
    )
    questions = [_question_of(context) for context, _ in exchanges]
    references = [reference for _, reference in exchanges]
    scores = judge_scores(judge_backend, questions, answers, references, template)
    metrics["judge/score"] = float(np.mean(scores))
    return _instruction_rows("judge", dev, scores, answers, references)


def _question_of(context: list[dict]) -> str:
    """What the judge is told was asked: the last user turn before the answer (a system turn is not)."""
    users = [turn["content"] for turn in context if turn["role"] == "user"]
    return users[-1] if users else ""
