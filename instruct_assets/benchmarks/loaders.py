"""Read the declared benchmarks into items, one loader per kind of source, and split them into target/eval.

The split is a pure function of (benchmark name, item id), so an item stays on its side when the file
grows, is reordered, or is loaded on another machine.
"""

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from instruct_assets.benchmarks.catalog import BenchmarkSpec, load_catalog
from instruct_assets.benchmarks.items import BENCHMARK_ITEMS_SCHEMA, BenchmarkFileError, BenchmarkItem
from instruct_assets.benchmarks.jsonl_loader import load_jsonl
from instruct_assets.benchmarks.math_choices import answer_choices
from instruct_assets.benchmarks.synthetic_math import generate_problems
from instruct_assets.demo.packaged_data import iter_human_eval_problems

__all__ = [
    "BENCHMARK_ITEMS_SCHEMA",
    "BenchmarkFileError",
    "BenchmarkItem",
    "load_benchmark_items",
    "split_of",
]

# HumanEval's prompt is a signature and docstring; the reference (canonical solution) is the body that
# follows it, so the instruction asks for exactly that continuation.
HUMAN_EVAL_INSTRUCTION = (
    "Complete the following Python function. Reply with the code of the function body only, "
    "continuing right after the docstring.\n\n"
)


def load_human_eval(spec: BenchmarkSpec) -> Iterator[BenchmarkItem]:
    """The 164 HumanEval problems of the human-eval package: text = prompt + canonical solution; prompt =
    an instruction and the HumanEval prompt; reference = the canonical solution; no choices, no answer."""
    for problem in iter_human_eval_problems():
        yield BenchmarkItem(
            problem["task_id"],
            problem["prompt"] + problem["canonical_solution"],
            prompt=HUMAN_EVAL_INSTRUCTION + problem["prompt"],
            reference=problem["canonical_solution"],
        )


def load_synthetic_math(spec: BenchmarkSpec) -> Iterator[BenchmarkItem]:
    """`spec.count` generated problems: text = question + worked solution ending in '#### <answer>';
    prompt = the question; reference = the solution; answer = the number; four "The answer is N."
    choices (math_choices.answer_choices)."""
    for problem in generate_problems(spec.count, spec.seed):
        choices, correct = answer_choices(problem.item_id, problem.answer)
        yield BenchmarkItem(
            problem.item_id,
            problem.text,
            prompt=problem.question,
            reference=problem.solution,
            choices=choices,
            correct_choice=correct,
            answer=str(problem.answer),
        )


LOADERS: dict[str, Callable[[BenchmarkSpec], Iterator[BenchmarkItem]]] = {
    "human_eval": load_human_eval,
    "synthetic_math": load_synthetic_math,
    "jsonl": load_jsonl,
}


def split_of(benchmark: str, item_id: str, eval_fraction: float) -> str:
    """'eval' for about `eval_fraction` of items, else 'target'; fixed by md5("benchmark:item_id")."""
    digest = hashlib.md5(f"{benchmark}:{item_id}".encode(), usedforsecurity=False).digest()
    # The top 64 bits as a uniform number in [0, 1): fraction 0 puts nothing in eval, 1 everything.
    return "eval" if int.from_bytes(digest[:8], "big") / 2**64 < eval_fraction else "target"


def load_benchmark_items(catalog_path: Path) -> pl.DataFrame:
    """Every item of every benchmark in the benchmarks file, with its split.

    One row per (benchmark, item_id), unique; columns benchmark, domain, item_id, split ('target' or
    'eval'), text (never blank), origin, and the evaluation fields prompt (never blank), reference (may be
    ""), choices and correct_choice (both null or both set, correct_choice indexing choices), answer
    (may be null); rows in catalog order, then source order. Raises CatalogError for a bad benchmarks
    file and BenchmarkFileError for a bad item.
    """
    rows: dict[str, list] = {name: [] for name in BENCHMARK_ITEMS_SCHEMA.names()}
    for spec in load_catalog(catalog_path):
        seen: set[str] = set()
        for item in LOADERS[spec.loader](spec):
            # The jsonl loader reports these with line numbers; this guards the built-in loaders too.
            problem = "it is repeated" if item.item_id in seen else item.problem()
            if problem:
                raise BenchmarkFileError(
                    f"benchmark {spec.name!r}: item {item.item_id!r} is unusable: {problem}"
                )
            seen.add(item.item_id)
            for column, value in (
                ("benchmark", spec.name),
                ("domain", spec.domain),
                ("item_id", item.item_id),
                ("split", split_of(spec.name, item.item_id, spec.eval_fraction)),
                ("text", item.text),
                ("origin", spec.origin),
                ("prompt", item.prompt),
                ("reference", item.reference),
                ("choices", list(item.choices) if item.choices is not None else None),
                ("correct_choice", item.correct_choice),
                ("answer", item.answer),
            ):
                rows[column].append(value)
    return pl.DataFrame(rows, schema=BENCHMARK_ITEMS_SCHEMA)
