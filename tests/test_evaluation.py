"""Evaluation functions on real models: the real SmolLM2 where a metric must mean something (planted
choices, arithmetic), the tiny random Llama where only the arithmetic of the metric is pinned."""

import json

import numpy as np
import polars as pl
import pytest
import torch

from instruct_assets.benchmarks import load_benchmark_items
from instruct_assets.demo.packaged_data import sharegpt_messages
from instruct_assets.evaluation.choices import choice_accuracy
from instruct_assets.evaluation.dev_loss import conversation_nll, response_nll
from instruct_assets.evaluation.exact_match import exact_match, final_number, is_exact_match
from instruct_assets.evaluation.judge import (
    JUDGE_TEMPLATE_FILE,
    judge_distribution,
    judge_scores,
    load_judge_template,
    render_judge_prompt,
)
from instruct_assets.evaluation.suite import ITEMS_SCHEMA, EvaluationSettings, run_evaluation
from instruct_assets.models.transformers_lm import TransformersLM
from instruct_assets.paths import RESOURCES_DIR

# The right answer first or second, so position cannot explain the result.
PLANTED = [
    ("What is the capital of France?", ["Paris.", "Qzv plom wrtx."], 0),
    ("What color is the sky on a clear day?", ["Xkq vrub dlop.", "Blue."], 1),
    ("How many legs does a dog have?", ["Four.", "Mlp zorq vint."], 0),
    ("What is the opposite of hot?", ["Wrb qexu fmo.", "Cold."], 1),
]


@pytest.fixture(scope="module")
def smollm2(smollm2_folder) -> TransformersLM:
    return TransformersLM(smollm2_folder, "smollm2", max_length=256, max_response_tokens=128)


@pytest.fixture(scope="module")
def tiny(tiny_llm_folder) -> TransformersLM:
    return TransformersLM(str(tiny_llm_folder), "tiny", max_length=256, max_response_tokens=64)


def test_planted_easy_choices_give_accuracy_one_zero_and_one_half(smollm2):
    prompts, choices, right = (list(column) for column in zip(*PLANTED, strict=True))
    planted = choice_accuracy(smollm2, prompts, choices, right)
    assert planted.accuracy == 1.0 and planted.accuracy_norm == 1.0
    assert planted.is_correct.dtype == np.bool_ and planted.predicted.tolist() == right
    gibberish = [1 - k for k in right]
    assert choice_accuracy(smollm2, prompts, choices, gibberish).accuracy == 0.0
    mixed = [right[0], gibberish[1], right[2], gibberish[3]]
    half = choice_accuracy(smollm2, prompts, choices, mixed)
    assert half.accuracy == 0.5 and half.accuracy_norm == 0.5
    assert half.is_correct.tolist() == [True, False, True, False]
    # Each choice's score is the backend's log-prob of that single exchange, summed over its tokens.
    for item, (prompt, options, _) in enumerate(PLANTED):
        for k, option in enumerate(options):
            messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": option}]
            alone = smollm2.response_logprobs([smollm2.encoder.encode(messages)]).conditional[0].sum()
            assert planted.choice_logprobs[item][k] == pytest.approx(alone, abs=1e-4)
        per_byte = planted.choice_logprobs[item] / [len(o.encode()) for o in options]
        assert planted.predicted_norm[item] == int(np.argmax(per_byte))


def test_choice_ties_go_to_the_lowest_index_and_bad_indices_are_refused(tiny):
    result = choice_accuracy(tiny, ["Pick one."], [["Same.", "Same.", "Same."]], [2])
    assert result.predicted.tolist() == [0] and result.predicted_norm.tolist() == [0]
    assert result.accuracy == 0.0
    with pytest.raises(ValueError, match="not an index"):
        choice_accuracy(tiny, ["Pick one."], [["a", "b"]], [2])


def independent_mean_nll(lm: TransformersLM, prompt: str, reference: str) -> float:
    """Transformers' own loss over the rendered chat text, labels -100 on everything up to the answer;
    the ids come from the rendered string, not from the project's encoder."""
    turns = [{"role": "user", "content": prompt}, {"role": "assistant", "content": reference}]
    full = lm.tokenizer.apply_chat_template(turns, tokenize=False).removesuffix("\n")
    context = lm.tokenizer.apply_chat_template(turns[:1], tokenize=False, add_generation_prompt=True)
    assert full.startswith(context) and full.endswith(reference + "<|im_end|>")
    ids = torch.tensor([lm.tokenizer(full, add_special_tokens=False)["input_ids"]])
    labels = ids.clone()
    labels[0, : len(lm.tokenizer(context, add_special_tokens=False)["input_ids"])] = -100
    with torch.no_grad():
        return lm.model(input_ids=ids, labels=labels).loss.item()


def test_response_nll_equals_transformers_loss_with_the_prompt_masked(tiny):
    prompts = ["What is the capital of France?", "Write a haiku about rain.", "Sum 2 and 3."]
    references = ["Paris is the capital of France.", "Soft rain on the roof\nthe gutters hum", "5"]
    nll = response_nll(tiny, prompts, references)
    assert nll.dtype == np.float64 and nll.shape == (3,)
    for value, prompt, reference in zip(nll, prompts, references, strict=True):
        assert value == pytest.approx(independent_mean_nll(tiny, prompt, reference), rel=1e-5)


def test_conversation_nll_scores_the_first_exchange(tiny, real_conversations):
    conversations = [sharegpt_messages(r) for r in real_conversations[:4]]
    assert any(len(c) > 2 for c in conversations), "later turns must not count"
    first = [(c[0]["content"], c[1]["content"]) for c in conversations]
    np.testing.assert_allclose(
        conversation_nll(tiny, conversations), response_nll(tiny, *zip(*first, strict=True)), rtol=1e-6
    )
    assert conversation_nll(tiny, []).shape == (0,)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("The change is 12 dollars.\n#### 42", "42"),
        ("It costs $1,200 in total.", "1200"),
        ("The temperature fell to -3 degrees.", "-3"),
        ("That is 42.0 apples", "42"),
        ("Pay $2.50 now.", "2.5"),
        ("pages 3-5", "5"),
        ("1,2,3", "3"),
        ("1,234,567 people", "1234567"),
        ("H2O is water", None),
        ("no digits here", None),
        ("-0", "0"),
    ],
)
def test_final_number_is_the_last_number_in_canonical_form(text, number):
    assert final_number(text) == number


def test_exact_match_compares_numbers_by_value_and_text_by_normalised_form():
    assert is_exact_match("So he pays $1,200.00.", "1200")
    assert not is_exact_match("42 then 43", "42")
    assert is_exact_match("  Paris. ", "paris")
    assert not is_exact_match("Paris, France", "Paris")


def test_real_model_exact_match_on_arithmetic_it_can_do(smollm2):
    # SmolLM2-135M answers these two correctly ("The answer is 4.", "3 + 4 = 7"); it gets 10 + 5 wrong.
    prompts = ["What is 2 + 2? Answer with a number.", "What is 3 + 4? Answer with just the number."]
    generations, matches = exact_match(smollm2, prompts, ["4", "8"], max_new_tokens=16)
    assert final_number(generations[0]) == "4" and final_number(generations[1]) == "7", generations
    assert matches.dtype == np.bool_ and matches.tolist() == [True, False]


def test_judge_score_is_the_expectation_over_the_five_exact_replies(tiny):
    template = load_judge_template()
    questions = ["What is 2 + 2?", "Name a prime number."]
    answers, references = ["4", "Nine {answer}"], ["Four.", "Seven."]
    scores = judge_scores(tiny, questions, answers, references, template)
    assert scores.shape == (2,) and ((scores >= 1) & (scores <= 5)).all()
    for i in range(2):
        prompt = render_judge_prompt(template, questions[i], answers[i], references[i])
        samples = [
            tiny.encoder.encode([{"role": "user", "content": prompt}, {"role": "assistant", "content": k}])
            for k in "12345"
        ]
        assert tiny.tokenizer.decode(samples[0].response_ids) == "1<|im_end|>"
        totals = np.array([lp.sum() for lp in tiny.response_logprobs(samples).conditional])
        probabilities = np.exp(totals) / np.exp(totals).sum()
        assert scores[i] == pytest.approx(probabilities @ np.arange(1, 6), abs=1e-6)
    distribution = judge_distribution(tiny, questions, answers, references, template)
    np.testing.assert_allclose(distribution.sum(axis=1), 1.0)


def test_judge_template_is_filled_once_and_must_name_every_placeholder(tmp_path):
    template = load_judge_template(JUDGE_TEMPLATE_FILE)
    rendered = render_judge_prompt(template, "Q {reference}", "def f(): return {1: 2}", "R")
    assert "Q {reference}" in rendered and "def f(): return {1: 2}" in rendered
    broken = tmp_path / "judge.txt"
    broken.write_text("Rate {answer} against {reference}.", encoding="utf-8")
    with pytest.raises(ValueError, match=r"judge\.txt: the judge template lacks \{question\}"):
        load_judge_template(broken)


@pytest.fixture(scope="module")
def project_items() -> pl.DataFrame:
    return load_benchmark_items(RESOURCES_DIR / "benchmarks.yaml")


def test_run_evaluation_reports_every_metric_over_capped_item_sets(tiny, project_items, real_conversations):
    dev = [sharegpt_messages(r) for r in real_conversations[:5]]
    settings = EvaluationSettings(
        dev_samples=3, items_per_benchmark=2, exact_match_items=1, judge_items=2, max_new_tokens=8
    )
    result = run_evaluation(
        tiny, tiny, project_items, dev, [f"dev-{i}" for i in range(5)], settings, load_judge_template()
    )
    assert result.items.schema == ITEMS_SCHEMA
    counts = {"dev_loss": 3 + 3 * 2, "choice": 2 * 2, "exact_match": 1, "judge": 2}
    assert list(result.metrics) == [
        "dev_loss/instruction", "dev_loss/code", "dev_loss/math", "dev_loss/knowledge",
        "dev_loss/benchmarks_mean", "accuracy/synthetic_math", "accuracy_norm/synthetic_math",
        "accuracy/knowledge_demo", "accuracy_norm/knowledge_demo", "accuracy/mean",
        "exact_match/synthetic_math", "judge/score", *(f"eval/items_{kind}" for kind in counts),
    ]  # fmt: skip
    assert {k: result.metrics[f"eval/items_{k}"] for k in counts} == counts
    per_kind = result.items.group_by("kind", "benchmark").len()
    rows = dict(per_kind.select(pl.concat_str("kind", "benchmark", separator="/"), "len").iter_rows())
    assert rows == {
        "dev_loss/instruction": 3, "dev_loss/humaneval": 2, "dev_loss/synthetic_math": 2,
        "dev_loss/knowledge_demo": 2, "choice/synthetic_math": 2, "choice/knowledge_demo": 2,
        "exact_match/synthetic_math": 1, "judge/instruction": 2,
    }  # fmt: skip
    # The item sets are the first eval items by item_id; the metrics are the means of their rows.
    first_eval = project_items.filter(split="eval", benchmark="knowledge_demo").sort("item_id")["item_id"]
    choice_rows = result.items.filter(kind="choice", benchmark="knowledge_demo")
    assert choice_rows["item_id"].to_list() == first_eval[:2].to_list()
    assert result.metrics["accuracy/knowledge_demo"] == choice_rows["value"].mean()
    instruction = result.items.filter(kind="dev_loss", benchmark="instruction")
    assert instruction["item_id"].to_list() == ["dev-0", "dev-1", "dev-2"]
    assert result.metrics["dev_loss/instruction"] == pytest.approx(instruction["value"].mean())
    code_loss = result.items.filter(kind="dev_loss", domain="code")["value"].mean()
    assert result.metrics["dev_loss/code"] == pytest.approx(code_loss)
    judged = result.items.filter(kind="judge")["value"]
    assert judged.is_between(1, 5).all() and result.metrics["judge/score"] == pytest.approx(judged.mean())
    assert set(result.items.filter(kind="choice")["value"]) <= {0.0, 1.0}


def test_run_evaluation_uses_what_there_is_and_leaves_empty_metrics_out(tiny, tmp_path):
    records = [
        {"id": f"q{i}", "question": f"Which is {i}?", "options": [str(i), str(i + 1)], "right": 0}
        for i in range(3)
    ]
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    common = f"loader: jsonl, path: {data}, id_field: id, origin: test, eval_fraction: 1"
    catalog = tmp_path / "benchmarks.yaml"
    catalog.write_text(
        "benchmarks:\n"
        f"  - {{name: plain, domain: other, text_fields: [question], {common}}}\n"
        f"  - {{name: mc, domain: knowledge, text_fields: [question, options], {common},\n"
        "      prompt_field: question, choices_field: options, answer_field: right}\n",
        encoding="utf-8",
    )
    items = load_benchmark_items(catalog)
    settings = EvaluationSettings(dev_samples=0, items_per_benchmark=50, exact_match_items=0, judge_items=0)
    result = run_evaluation(tiny, tiny, items, [], [], settings, load_judge_template())
    # `plain` has no prompt_field: no reference, no choices, so it adds nothing; `mc` has 3 of 50 items.
    assert result.metrics == {
        "dev_loss/knowledge": pytest.approx(result.items.filter(kind="dev_loss")["value"].mean()),
        "dev_loss/benchmarks_mean": result.metrics["dev_loss/knowledge"],
        "accuracy/mc": result.metrics["accuracy/mc"],
        "accuracy_norm/mc": result.metrics["accuracy_norm/mc"],
        "accuracy/mean": result.metrics["accuracy/mc"],
        "eval/items_dev_loss": 3.0,
        "eval/items_choice": 3.0,
        "eval/items_exact_match": 0.0,
        "eval/items_judge": 0.0,
    }
    assert set(result.items["benchmark"]) == {"mc"}
    assert not any(np.isnan(v) for v in result.metrics.values())
