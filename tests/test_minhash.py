import re

import numpy as np
import pyarrow as pa
import pytest

from instruct_assets.curation.clusters import band_edges, near_duplicate_of
from instruct_assets.curation.minhash import MinHashSettings, band_keys, optimal_layout, shingle_hashes

SETTINGS = MinHashSettings(shingle_size=5, num_perm=250, threshold=0.7)


@pytest.fixture(scope="module")
def long_texts(real_conversations: list[dict]) -> list[str]:
    """Real conversation texts of at least 200 words, cut to their first 200."""
    texts = []
    for record in real_conversations:
        words = " ".join(turn["value"] for turn in record["conversations"]).split()
        if len(words) >= 200:
            texts.append(" ".join(words[:200]))
    assert len(texts) >= 10
    return texts


def duplicate_of(texts: list[str | None], settings: MinHashSettings = SETTINGS) -> list[int]:
    keys, has_shingles = band_keys(pa.array(texts, type=pa.large_string()), settings)
    return near_duplicate_of(keys, has_shingles).tolist()


def test_identical_texts_are_always_linked(long_texts):
    assert duplicate_of([long_texts[0], long_texts[1], long_texts[0], long_texts[0]]) == [-1, -1, 0, 0]


def test_one_word_edit_in_200_words_is_linked(long_texts):
    for text in long_texts[:10]:
        words = text.split()
        substituted = " ".join([*words[:100], "zebra", *words[101:]])
        inserted = " ".join([*words[:50], "zebra", *words[50:]])
        deleted = " ".join(words[:150] + words[151:])
        assert duplicate_of([text, substituted, inserted, deleted]) == [-1, 0, 0, 0]


def test_unrelated_texts_are_not_linked(long_texts):
    # ShareGPT holds real near duplicates (one prompt asked twice): keep texts sharing under 20% of shingles.
    shingle_sets = [set(row) for row in shingle_hashes(pa.array(long_texts), 5).to_pylist()]
    unrelated: list[int] = []
    for i, shingles in enumerate(shingle_sets):
        if all(len(shingles & shingle_sets[j]) < 0.2 * len(shingles | shingle_sets[j]) for j in unrelated):
            unrelated.append(i)
    assert len(unrelated) >= 10
    assert duplicate_of([long_texts[i] for i in unrelated]) == [-1] * len(unrelated)


def test_case_and_punctuation_only_differences_are_linked(long_texts):
    text = long_texts[0]
    shouted = re.sub(r"[.,;:!?'\"()]", " ", text).upper()
    assert duplicate_of([text, shouted]) == [-1, 0]
    keys, _ = band_keys(pa.array([text, shouted]), SETTINGS)
    assert (keys[0] == keys[1]).all()  # the same words give the same shingles and signatures


def test_texts_without_words_are_ineligible_and_never_linked():
    texts = ["", "   \n\t", "!!! ??? ...", None, "", "!!! ??? ..."]
    keys, has_shingles = band_keys(pa.array(texts, type=pa.large_string()), SETTINGS)
    assert not has_shingles.any()
    assert near_duplicate_of(keys, has_shingles).tolist() == [-1] * len(texts)


def test_texts_shorter_than_the_shingle_size_get_one_shingle():
    shingles = shingle_hashes(pa.array(["the cat sat", "The cat, sat!", "the cat sat down", "one"]), 5)
    assert [len(row) for row in shingles.to_pylist()] == [1, 1, 1, 1]
    assert duplicate_of(["the cat sat", "The cat, sat!", "the cat sat down", "one"]) == [-1, 0, -1, -1]


def test_shingle_count_is_words_minus_size_plus_one():
    shingles = shingle_hashes(pa.array(["a b c d e f g", "a b c d e", "émile a écrit 2 lignes ici"]), 5)
    assert [len(row) for row in shingles.to_pylist()] == [3, 1, 2]


def test_keys_do_not_depend_on_the_batch(long_texts):
    alone, _ = band_keys(pa.array(long_texts[3:4]), SETTINGS)
    batched, _ = band_keys(pa.array(["a b", "", *long_texts[:6]]), SETTINGS)
    assert (alone[0] == batched[2 + 3]).all()


@pytest.mark.parametrize(("threshold", "num_perm"), [(0.7, 250), (0.5, 128), (0.85, 256)])
def test_optimal_layout_matches_datasketch(threshold, num_perm):
    from datasketch.lsh import _optimal_param

    assert optimal_layout(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_settings_layout_is_the_optimum_unless_given():
    assert optimal_layout(0.7, 250) == (25, 10)  # datasketch's weights
    assert SETTINGS.layout() == optimal_layout(0.7, 250, 0.2, 0.8) == (30, 8)  # ours lean toward recall
    assert MinHashSettings(false_negative_weight=0.5).layout() == (25, 10)
    assert MinHashSettings(bands=20, rows=5).layout() == (20, 5)


def test_a_chain_ends_in_one_cluster_surviving_as_its_first_row():
    # A~B share band 0, B~C share band 1, A and C share nothing; D is alone.
    keys = np.array([[1, 2], [1, 3], [4, 3], [5, 6]], dtype=np.uint64)
    eligible = np.ones(4, dtype=bool)
    assert near_duplicate_of(keys, eligible).tolist() == [-1, 0, 0, -1]
    # The survivor is the lowest index whatever order the links are found in.
    assert near_duplicate_of(keys[[2, 1, 0, 3]], eligible).tolist() == [-1, 0, 0, -1]


def test_band_edges_link_a_bucket_as_a_star_not_all_pairs():
    keys = np.array([[7], [9], [7], [7], [7]], dtype=np.uint64)
    edges = band_edges(keys, np.ones(5, dtype=bool))
    assert sorted(map(tuple, edges.tolist())) == [(2, 0), (3, 0), (4, 0)]


def test_ineligible_rows_are_neither_linked_nor_bucket_heads():
    keys = np.array([[7], [7], [7]], dtype=np.uint64)
    eligible = np.array([False, True, True])
    assert band_edges(keys, eligible).tolist() == [[2, 1]]
    assert near_duplicate_of(keys, eligible).tolist() == [-1, -1, 1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"shingle_size": 0}, "shingle_size must be"),
        ({"shingle_size": 9}, "shingle_size must be"),
        ({"bands": 10}, "set both bands and rows"),
        ({"rows": 10}, "set both bands and rows"),
        ({"bands": 26, "rows": 10}, "exceeds num_perm"),
        ({"threshold": 0.0}, "threshold must be"),
        ({"threshold": 1.0}, "threshold must be"),
    ],
)
def test_settings_reject_invalid_values(arguments, message):
    with pytest.raises(ValueError, match=message):
        MinHashSettings(**arguments)
