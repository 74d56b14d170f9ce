"""IterIT: TF-IDF features against a plain-Python reference, hand-checked picks, lazy == naive."""

import math
import re
from collections import Counter

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from instruct_assets.selection.iterit import IterItScores, iterit_candidates, iterit_greedy, iterit_picks
from instruct_assets.selection.tfidf import tfidf_features

FAST = settings(max_examples=40, deadline=None)
# Cased, accented, combining-mark (İ lowers to i + U+0307), digit, connector and separator characters.
TRICKY = list("abAB cat CAT İσςΣ\u0307é1_-.\n\t\u00a0日本")
texts = st.one_of(st.none(), st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=25))
small_vocab_texts = st.lists(
    st.sampled_from(["the", "cat", "sat", "dog", "ran", "The", "CAT."]), max_size=5
).map(" ".join)


def reference_tfidf(responses: list[str | None]) -> dict[tuple[str, ...], dict[int, float]]:
    """Eq. 5 spelled out: {n-gram: {row: TF-IDF}}, n-grams of idf 0 left out."""
    counts = []
    for text in responses:
        words = regex.findall(r"\w+", (text or "").lower())
        counts.append(Counter(tuple(words[s : s + n]) for n in (1, 2, 3) for s in range(len(words) - n + 1)))
    document_frequency = Counter(g for row in counts for g in row)
    table = {}
    for ngram, rows_with in document_frequency.items():
        idf = math.log(len(responses) / rows_with)
        if idf > 0:
            table[ngram] = {i: row[ngram] / row.total() * idf for i, row in enumerate(counts) if ngram in row}
    return table


def columns_of(matrix: sparse.csr_matrix) -> list[tuple[tuple[int, ...], tuple[float, ...]]]:
    by_column = matrix.tocsc()
    columns = []
    for j in range(by_column.shape[1]):
        start, end = by_column.indptr[j], by_column.indptr[j + 1]
        if end > start:
            order = np.argsort(by_column.indices[start:end])
            rows = by_column.indices[start:end][order]
            columns.append((tuple(rows.tolist()), tuple(by_column.data[start:end][order].tolist())))
    return sorted(columns, key=lambda c: (c[0], [round(v, 9) for v in c[1]]))


@FAST
@given(responses=st.lists(texts, max_size=8))
def test_tfidf_equals_eq5_over_regex_words_up_to_column_order(responses):
    ours = columns_of(tfidf_features(responses))
    expected = sorted(
        (
            (tuple(sorted(rows)), tuple(rows[i] for i in sorted(rows)))
            for rows in reference_tfidf(responses).values()
        ),
        key=lambda c: (c[0], [round(v, 9) for v in c[1]]),
    )
    assert [rows for rows, _ in ours] == [rows for rows, _ in expected]
    for (_, got), (_, want) in zip(ours, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_tfidf_rows_are_canonical_csr_with_an_empty_row_for_an_empty_response():
    features = tfidf_features(["one two three", "", None, "two three four five"])
    assert isinstance(features, sparse.csr_matrix) and features.has_sorted_indices
    assert features.shape[0] == 4
    assert features[1].nnz == 0 and features[2].nnz == 0
    # "two", "three" and "two three" are in two of four rows: idf log 2, still stored.
    assert features[0].nnz == 6 and features[3].nnz == 4 + 3 + 2


# Rows 0 and 1 are the same response, row 3 is empty: N' = 4.
HAND_RESPONSES = ["The cat sat.", "the CAT sat", "Dog ran", ""]
HAND_IFD = np.array([0.9, 0.9, 0.3, 0.95])


def test_hand_computed_tfidf_values():
    features = tfidf_features(HAND_RESPONSES).toarray()
    # Rows 0/1: 6 n-grams (3 words, 2 bigrams, 1 trigram), each in 2 of 4 rows: 1/6 x log(4/2).
    # Row 2: 3 n-grams, each in 1 row: 1/3 x log(4).
    assert sorted(features[0][features[0] > 0]) == pytest.approx([math.log(2) / 6] * 6, rel=1e-15)
    np.testing.assert_array_equal(features[0], features[1])
    assert sorted(features[2][features[2] > 0]) == pytest.approx([math.log(4) / 3] * 3, rel=1e-15)
    assert not features[3].any()
    assert not (features[0] * features[2]).any()  # no shared n-gram


@pytest.mark.parametrize("lazy", [True, False])
def test_hand_computed_iterit_order_decays_a_repeated_response_below_a_weaker_new_one(lazy):
    # Scores at alpha = 1: rows 0 and 1: 0.9 x log 2 = 0.624, row 2: 0.3 x log 4 = 0.416, row 3: 0.
    # Row 0 wins the tie with row 1; its n-grams decay to 0.1, so row 1 falls to 0.09 x log 2 = 0.062,
    # below row 2; the empty response (highest IFD, no diversity) comes last.
    result = iterit_greedy(HAND_IFD, tfidf_features(HAND_RESPONSES), budget=4, decay=0.1, lazy=lazy)
    assert result.order.tolist() == [0, 2, 1, 3]
    expected = [0.9 * math.log(2), 0.3 * math.log(4), 0.09 * math.log(2), 0.0]
    assert result.gains.tolist() == pytest.approx(expected, rel=1e-14)


def test_without_decay_the_order_is_plain_ifd_times_tfidf():
    result = iterit_greedy(HAND_IFD, tfidf_features(HAND_RESPONSES), budget=4, decay=1.0)
    assert result.order.tolist() == [0, 1, 2, 3]


def test_picks_explain_each_pick_with_diversity_at_pick_time():
    features = tfidf_features(HAND_RESPONSES)
    result = iterit_greedy(HAND_IFD, features, budget=3)
    picks = iterit_picks(HAND_IFD, features, result)
    assert [(p.rank, p.index) for p in picks] == [(1, 0), (2, 2), (3, 1)]
    assert picks[2].diversity == pytest.approx(0.1 * math.log(2), rel=1e-14)
    assert [p.score for p in picks] == result.gains.tolist()
    assert picks[0].reason == "iterit: rank 1, ifd 0.9000 x diversity 0.693"
    with pytest.raises(ValueError, match="pass the ifd, features and decay"):
        iterit_picks(HAND_IFD, features, result, decay=0.5)


@FAST
@given(
    responses=st.lists(small_vocab_texts, min_size=0, max_size=25),
    seed=st.integers(0, 2**32 - 1),
    decay=st.sampled_from([0.0, 0.1, 0.5, 0.999999, 1.0]),
    budget=st.integers(0, 30),
    ifd_levels=st.sampled_from([1, 3, 1000]),
)
def test_lazy_iterit_picks_what_the_naive_loop_picks(responses, seed, decay, budget, ifd_levels):
    # Few IFD levels and a seven-word vocabulary: identical responses, empty ones and exact ties.
    ifd = np.random.default_rng(seed).integers(0, ifd_levels, len(responses)) / ifd_levels
    features = tfidf_features(responses)
    lazy = iterit_greedy(ifd, features, budget, decay, lazy=True)
    naive = iterit_greedy(ifd, features, budget, decay, lazy=False)
    np.testing.assert_array_equal(lazy.order, naive.order)
    assert lazy.gains.tobytes() == naive.gains.tobytes()
    assert len(lazy.order) == min(budget, len(responses))


def random_features(rng: np.random.Generator, rows: int, columns: int) -> sparse.csr_matrix:
    # Magnitudes over 12 orders, so a sum taken in another order or grouping comes out different.
    matrix = sparse.random(rows, columns, density=0.3, format="csr", random_state=rng)
    matrix.data = 10.0 ** rng.uniform(-6, 6, matrix.nnz)
    return matrix


@FAST
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 60))
def test_a_row_scores_bit_for_bit_the_same_alone_and_in_any_batch(seed, rows):
    rng = np.random.default_rng(seed)
    scores = IterItScores(rng.uniform(0, 1, rows), random_features(rng, rows, 200), decay=0.3)
    for _ in range(3):
        everything = scores.gains(np.arange(rows))
        subset = np.flatnonzero(rng.random(rows) < 0.2)  # below WHOLE_MATRIX_SHARE: rows copied out
        alone = np.array([scores.gains(np.array([i]))[0] for i in range(rows)])
        assert alone.tobytes() == everything.tobytes()
        assert scores.gains(subset).tobytes() == everything[subset].tobytes()
        scores.commit(int(rng.integers(rows)))


def test_lazy_iterit_makes_far_fewer_evaluations_on_real_text(real_responses):
    rng = np.random.default_rng(0)
    ifd = rng.uniform(0.05, 0.95, len(real_responses))
    features = tfidf_features(real_responses)
    lazy = iterit_greedy(ifd, features, 60)
    naive = iterit_greedy(ifd, features, 60, lazy=False)
    np.testing.assert_array_equal(lazy.order, naive.order)
    assert lazy.gains.tobytes() == naive.gains.tobytes()
    assert lazy.evaluations < naive.evaluations / 10


@pytest.fixture(scope="module")
def real_responses() -> list[str]:
    from instruct_assets.demo.packaged_data import iter_sharegpt_conversations

    responses = []
    for record in iter_sharegpt_conversations(limit=400):
        responses += [t["value"][:1500] for t in record["conversations"] if t["from"] == "gpt"]
    return responses[:500]


def test_candidates_drop_unaligned_and_non_finite_ifd_before_taking_the_top():
    ifd = np.array([0.5, np.nan, 1.0, 0.7, np.inf, 0.7, 1.3, 0.2, 0.99])
    assert iterit_candidates(ifd, budget=1, a=3.0).tolist() == [8, 3, 5]  # ties: lowest index first
    assert iterit_candidates(ifd, budget=2, a=3.0).tolist() == [8, 3, 5, 0, 7]
    assert iterit_candidates(ifd, budget=0).tolist() == []
    assert iterit_candidates(np.array([1.0, 2.0, np.nan]), budget=5).tolist() == []


def test_candidates_reject_negative_ifd():
    with pytest.raises(ValueError, match=r"row 1 has IFD -0\.1"):
        iterit_candidates(np.array([0.5, -0.1]), budget=1)


@pytest.mark.parametrize(
    ("ifd", "decay", "message"),
    [
        ([0.5, 1.0], 0.1, "row 1 has IFD 1.0"),
        ([np.nan, 0.2], 0.1, "row 0 has IFD nan"),
        ([0.5, -1.0], 0.1, "cannot be negative"),
        ([0.5, 0.2], 1.5, "decay must be in"),
        ([0.5], 0.1, "1 IFD values for 2 feature rows"),
    ],
)
def test_iterit_greedy_rejects_what_would_break_the_greedy(ifd, decay, message):
    features = tfidf_features(["a b", "c d"])
    with pytest.raises(ValueError, match=re.escape(message)):
        iterit_greedy(np.array(ifd), features, budget=1, decay=decay)
