"""Which copy survives deduplication, and what a dropped row records (pure functions, no Dagster)."""

import polars as pl
import pytest

from instruct_assets.curation.dedup import DedupSettings, dedup_verdicts
from instruct_assets.curation.minhash import MinHashSettings, band_keys

LONG = " ".join(f"token{i} of the story" for i in range(120))
SETTINGS = DedupSettings()


def index_frame(rows: list[dict]) -> pl.DataFrame:
    """INDEX_COLUMNS for rows given as dicts with id, text and optional source/priority/seen/key."""
    keys, has_shingles = band_keys(pl.Series([r["text"] for r in rows], dtype=pl.String), SETTINGS.minhash)
    return pl.DataFrame(
        {
            "sample_id": [r["id"] for r in rows],
            "source": [r.get("source", "new") for r in rows],
            "priority": [r.get("priority", 0) for r in rows],
            "chars": [len(r["text"]) for r in rows],
            "seen": [r.get("seen", i) for i, r in enumerate(rows)],
            "exact_key": [r.get("key", r["text"].lower()) for r in rows],
            "has_shingles": has_shingles,
        },
        schema_overrides={"priority": pl.Int32},
    ).with_columns(band_keys=pl.Series(keys, dtype=pl.Array(pl.UInt64, keys.shape[1])))


def verdicts_of(candidates, reference=None, settings=SETTINGS) -> dict[str, tuple]:
    candidates = index_frame(candidates)
    reference = index_frame(reference) if reference else candidates.clear()
    frame = dedup_verdicts(candidates, reference, settings)
    return {
        row["sample_id"]: (row["kept"], row["reason"], row["ref_id"]) for row in frame.iter_rows(named=True)
    }


def test_exact_copies_keep_the_first_seen_and_point_at_it():
    result = verdicts_of([{"id": "a", "text": LONG}, {"id": "b", "text": LONG}, {"id": "c", "text": "other"}])
    assert result == {
        "a": (True, None, None),
        "b": (False, "exact_duplicate", "a"),
        "c": (True, None, None),
    }


def test_a_one_word_edit_is_a_near_duplicate_of_the_longer_copy():
    edited = LONG.replace("token7 ", "changed ") + " and a longer ending"
    result = verdicts_of([{"id": "short", "text": LONG}, {"id": "long", "text": edited}])
    assert result["long"] == (True, None, None)
    assert result["short"] == (False, "near_duplicate", "long")


def test_source_priority_beats_length_and_order():
    rows = [
        {"id": "low", "text": LONG + " padding to be longer", "priority": 0, "key": "k"},
        {"id": "high", "text": LONG, "priority": 5, "key": "k"},
    ]
    result = verdicts_of(rows)
    assert result["high"][0] and result["low"] == (False, "exact_duplicate", "high")


def test_survivor_order_is_configurable():
    rows = [{"id": "first", "text": LONG}, {"id": "longer", "text": LONG + " and more words at the end"}]
    first_seen = DedupSettings(survivor_order=("first_seen",))
    assert verdicts_of(rows, settings=first_seen)["longer"] == (False, "near_duplicate", "first")
    assert verdicts_of(rows)["first"] == (False, "near_duplicate", "longer")


def test_rows_already_kept_always_win():
    reference = [{"id": "kept-before", "text": LONG, "source": "old", "priority": 0}]
    candidates = [{"id": "new-copy", "text": LONG + " even longer now", "priority": 9}]
    assert verdicts_of(candidates, reference) == {"new-copy": (False, "near_duplicate", "kept-before")}


def test_exact_duplicate_of_a_kept_row_in_another_source():
    reference = [{"id": "x", "text": LONG, "source": "old"}]
    assert verdicts_of([{"id": "y", "text": LONG}], reference) == {"y": (False, "exact_duplicate", "x")}


def test_texts_without_words_are_only_exact_deduplicated():
    result = verdicts_of([{"id": "p", "text": "?!"}, {"id": "q", "text": "..."}, {"id": "r", "text": "?!"}])
    assert result == {"p": (True, None, None), "q": (True, None, None), "r": (False, "exact_duplicate", "p")}


def test_exact_only_mode_keeps_near_duplicates():
    rows = [{"id": "a", "text": LONG}, {"id": "b", "text": LONG + " plus a tail"}]
    assert verdicts_of(rows, settings=DedupSettings(near=False)) == {
        "a": (True, None, None),
        "b": (True, None, None),
    }


def test_verdicts_come_in_file_order_with_scores():
    rows = [{"id": f"r{i}", "text": LONG, "seen": 10 - i} for i in range(3)]
    frame = dedup_verdicts(index_frame(rows), index_frame(rows).clear(), SETTINGS)
    assert frame["sample_id"].to_list() == ["r2", "r1", "r0"]
    assert frame.filter(~pl.col("kept"))["score"].to_list() == [1.0, 1.0]


def test_unknown_survivor_order_is_refused():
    with pytest.raises(ValueError, match="unknown survivor_order"):
        DedupSettings(survivor_order=("newest",))


def test_band_layout_must_fit_the_signature():
    with pytest.raises(ValueError, match="exceeds num_perm"):
        MinHashSettings(num_perm=64, bands=10, rows=10)
