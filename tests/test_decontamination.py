import pyarrow as pa
import pytest

from instruct_assets.benchmarks.synthetic_math import generate_problems
from instruct_assets.curation.decontamination import (
    OVERLAPS_SCHEMA,
    Decontaminator,
    find_benchmark_overlaps,
    normalized_words,
)

PROBLEMS = list(generate_problems(40, seed=7))


def eval_table(*items: tuple[str, str, str]) -> pa.Table:
    benchmark, item_id, text = zip(*items, strict=True)
    return pa.table({"benchmark": list(benchmark), "item_id": list(item_id), "text": list(text)})


def pool_table(*texts: str) -> pa.Table:
    return pa.table({"sample_id": [f"s{i}" for i in range(len(texts))], "text": list(texts)})


def words(text: str) -> list[str]:
    return normalized_words(pa.array([text]))[0].to_pylist()


def shouted(word_list: list[str]) -> str:
    """The same words with different case and punctuation, as a leak pasted into a chat would look."""
    return " -- ".join(w.upper() if i % 2 else w.title() + "," for i, w in enumerate(word_list))


@pytest.fixture(scope="module")
def math_eval() -> pa.Table:
    return eval_table(*(("synthetic_math", p.item_id, p.text) for p in PROBLEMS))


def test_planted_13_gram_with_other_case_and_punctuation_is_found_with_its_item(math_eval):
    victim = PROBLEMS[11]
    leaked = words(victim.text)[3:16]
    pool = pool_table("Nothing to see here.", f"Please solve: {shouted(leaked)} thanks!", "Also clean.")

    found = find_benchmark_overlaps(pool, math_eval).to_pylist()

    assert len(found) == 1
    assert found[0]["sample_id"] == "s1"
    assert (found[0]["benchmark"], found[0]["item_id"]) == ("synthetic_math", victim.item_id)
    assert found[0]["ngram"] == " ".join(leaked)
    assert found[0]["shared_ngrams"] == 1


def test_12_gram_overlap_is_not_contamination(math_eval):
    leaked = words(PROBLEMS[11].text)[3:15]
    assert find_benchmark_overlaps(pool_table(f"intro {' '.join(leaked)} outro"), math_eval).num_rows == 0


def test_a_whole_copied_item_counts_every_distinct_shared_ngram(math_eval):
    victim = PROBLEMS[5]
    found = find_benchmark_overlaps(pool_table(victim.text), math_eval).to_pylist()
    victim_words = words(victim.text)
    distinct = {tuple(victim_words[i : i + 13]) for i in range(len(victim_words) - 12)}
    assert found[0]["item_id"] == victim.item_id
    assert found[0]["shared_ngrams"] == len(distinct)
    assert found[0]["ngram"] == " ".join(victim_words[:13])


def test_eval_item_shorter_than_n_matches_only_as_a_whole():
    items = eval_table(("kb", "q1", "What is the capital of Kenya?"))
    pool = pool_table(
        "Quiz: WHAT is the capital of kenya?? Nairobi.",
        "what is the capital of France",
        "capital of Kenya",
    )
    found = find_benchmark_overlaps(pool, items).to_pylist()
    assert [(r["sample_id"], r["ngram"]) for r in found] == [("s0", "what is the capital of kenya")]


def test_sample_hitting_several_items_reports_the_one_sharing_most_ngrams():
    base = [f"w{i}" for i in range(40)]
    items = eval_table(
        ("a_bench", "few", " ".join(base[:13])),  # shares 1 n-gram with the pool text
        ("b_bench", "many", " ".join(base[:16])),  # shares 4
    )
    found = find_benchmark_overlaps(pool_table(" ".join(base[:20])), items).to_pylist()
    assert [(r["benchmark"], r["item_id"], r["shared_ngrams"], r["items_hit"]) for r in found] == [
        ("b_bench", "many", 4, 2)
    ]


def test_tie_goes_to_the_smallest_benchmark_then_item_id():
    text = " ".join(f"w{i}" for i in range(13))
    items = eval_table(("zeta", "1", text), ("alpha", "9", text), ("alpha", "10", text))
    found = find_benchmark_overlaps(pool_table(text), items).to_pylist()
    assert [(r["benchmark"], r["item_id"], r["items_hit"]) for r in found] == [("alpha", "10", 3)]


def test_clean_pool_returns_empty_table_with_the_overlap_schema(math_eval):
    pool = pool_table("Tell me a story about a dragon.", "", "x")
    found = find_benchmark_overlaps(pool, math_eval)
    assert found.num_rows == 0
    assert found.schema == OVERLAPS_SCHEMA
    empty_pool = pa.table({"sample_id": pa.array([], pa.string()), "text": pa.array([], pa.string())})
    assert find_benchmark_overlaps(empty_pool, math_eval).schema == OVERLAPS_SCHEMA


def test_ngrams_do_not_span_two_pool_samples_or_chunks(math_eval):
    victim_words = words(PROBLEMS[2].text)
    pool = pool_table(" ".join(victim_words[:7]), " ".join(victim_words[7:14]))
    with Decontaminator(math_eval, chunk_rows=1) as single_rows:
        assert single_rows.overlaps(pool).num_rows == 0
    assert find_benchmark_overlaps(pool, math_eval).num_rows == 0


def test_one_decontaminator_gives_the_same_answer_for_any_batching(math_eval):
    texts = [
        f"note {i}: " + (shouted(words(PROBLEMS[i].text)[:20]) if i % 3 == 0 else "clean") for i in range(30)
    ]
    pool = pool_table(*texts)
    whole = find_benchmark_overlaps(pool, math_eval)
    with Decontaminator(math_eval, chunk_rows=4) as decontaminator:
        batched = pa.concat_tables([decontaminator.overlaps(pool.slice(s, 7)) for s in range(0, 30, 7)])
    assert whole.num_rows == 10
    assert batched.to_pylist() == whole.to_pylist()
    assert whole["item_id"].to_pylist() == [PROBLEMS[i].item_id for i in range(0, 30, 3)]


def test_unicode_letters_are_words_and_underscores_separate_them():
    assert words("Ünïcode CAFÉ_au-lait, 3.14 日本語 тест") == [
        "ünïcode",
        "café",
        "au",
        "lait",
        "3",
        "14",
        "日本語",
        "тест",
    ]
    items = eval_table(("kb", "1", "Ça coûte combien, s'il vous plaît ?"))
    assert find_benchmark_overlaps(pool_table("ÇA COÛTE COMBIEN S IL VOUS PLAÎT"), items).num_rows == 1


def test_repeated_sample_id_is_refused(math_eval):
    pool = pa.table({"sample_id": ["a", "a"], "text": ["x", "y"]})
    with pytest.raises(ValueError, match="unique"):
        find_benchmark_overlaps(pool, math_eval)
