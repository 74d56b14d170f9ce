"""RDS+ scoring and round-robin selection against hand-checked cases and a brute-force selection loop."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from instruct_assets.selection.rds_plus import round_robin, task_similarity

INV_SQRT2 = 1 / np.sqrt(2)


def test_task_score_is_the_max_cosine_over_the_tasks_queries_as_in_the_reference():
    # Pool rows: x axis, y axis, the diagonal (scaled: cosine ignores length).
    pool = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 3.0]])
    queries = {"axes": np.array([[2.0, 0.0], [0.0, 5.0]])}
    tasks, scores = task_similarity(pool, queries)
    assert tasks == ["axes"]
    # The reference's `max` reduce: each axis matches one query exactly, the diagonal reaches 1/sqrt(2).
    np.testing.assert_allclose(scores[:, 0], [1.0, 1.0, INV_SQRT2], rtol=1e-6)
    # The mean over queries ranks the other way: the diagonal is the only row near both queries.
    _, mean_scores = task_similarity(pool, queries, aggregate="mean")
    np.testing.assert_allclose(mean_scores[:, 0], [0.5, 0.5, INV_SQRT2], rtol=1e-6)


def test_a_query_identical_to_a_pool_sample_ranks_that_sample_first():
    rng = np.random.default_rng(7)
    pool = rng.standard_normal((500, 16)).astype(np.float32)
    queries = {"target": np.vstack([pool[321] * 4.0, rng.standard_normal((3, 16))])}
    _, scores = task_similarity(pool, queries)
    picks = round_robin(scores, 5)
    assert picks.index[0] == 321
    assert picks.score[0] == pytest.approx(1.0, abs=1e-6)


def test_tasks_are_sorted_by_name_and_columns_follow_them():
    pool = np.array([[1.0, 0.0], [0.0, 1.0]])
    tasks, scores = task_similarity(pool, {"zeta": np.array([[0.0, 1.0]]), "alpha": np.array([[1.0, 0.0]])})
    assert tasks == ["alpha", "zeta"]
    np.testing.assert_allclose(scores, [[1.0, 0.0], [0.0, 1.0]], atol=1e-7)


def test_scores_do_not_depend_on_the_chunk_size_and_zero_rows_score_minus_inf():
    rng = np.random.default_rng(3)
    pool = rng.standard_normal((50, 8))
    pool[37] = 0.0  # in the 13th chunk of three rows
    queries = {"a": rng.standard_normal((4, 8)), "b": rng.standard_normal((1, 8))}
    _, whole = task_similarity(pool, queries)
    _, chunked = task_similarity(pool, queries, chunk_rows=3)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)
    assert np.isneginf(chunked[37]).all() and np.isfinite(np.delete(chunked, 37, axis=0)).all()


def test_bad_inputs_are_refused_with_the_row_named():
    pool = np.ones((4, 3))
    with pytest.raises(ValueError, match="queries\\['q'\\] row 1 is all zeros"):
        task_similarity(pool, {"q": np.array([[1.0, 0, 0], [0, 0, 0]])})
    pool[2, 1] = np.nan
    with pytest.raises(ValueError, match="pool row 2 has a NaN"):
        task_similarity(pool, {"q": np.ones((1, 3))}, chunk_rows=2)
    with pytest.raises(ValueError, match="aggregate"):
        task_similarity(np.ones((4, 3)), {"q": np.ones((1, 3))}, aggregate="min")
    with pytest.raises(ValueError, match=r"\(q >= 1, 3\)"):
        task_similarity(np.ones((4, 3)), {"q": np.ones((1, 2))})


def test_round_robin_alternates_tasks_and_skips_samples_already_taken():
    scores = np.array(
        [
            [0.9, 0.8],  # both tasks' favourite: task 0 takes it first
            [0.5, 0.7],
            [0.8, 0.1],
            [0.1, 0.2],
        ]
    )
    picks = round_robin(scores, 4)
    np.testing.assert_array_equal(picks.index, [0, 1, 2, 3])
    np.testing.assert_array_equal(picks.task, [0, 1, 0, 1])
    np.testing.assert_array_equal(picks.round, [1, 1, 2, 2])
    np.testing.assert_array_equal(picks.rank, [1, 2, 3, 4])
    np.testing.assert_allclose(picks.score, [0.9, 0.7, 0.8, 0.2])


def test_round_robin_breaks_ties_by_lowest_row_and_never_picks_nan_or_inf():
    scores = np.array([[np.nan, 0.3], [0.5, -np.inf], [0.5, 0.3], [np.inf, 0.3]])
    picks = round_robin(scores, 10)
    # Task 0 can pick rows 1 and 2 only; task 1 rows 0, 2, 3. Task 0 drops out once it has none left.
    np.testing.assert_array_equal(picks.index, [1, 0, 2, 3])
    np.testing.assert_array_equal(picks.task, [0, 1, 0, 1])
    np.testing.assert_array_equal(picks.round, [1, 1, 2, 2])


def test_round_robin_stops_at_the_budget_or_when_the_pool_is_used_up():
    scores = np.random.default_rng(0).random((6, 3))
    assert len(round_robin(scores, 0)) == 0
    assert len(round_robin(scores, 4)) == 4
    everything = round_robin(scores, 100)
    assert sorted(everything.index.tolist()) == list(range(6))
    with pytest.raises(ValueError, match="budget"):
        round_robin(scores, -1)


def _brute_force_round_robin(scores: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """O(n * budget): on each turn, scan every row for the task's best untaken finite score."""
    taken: set[int] = set()
    picks: list[tuple[int, int]] = []
    while len(picks) < budget:
        progressed = False
        for t in range(scores.shape[1]):
            if len(picks) >= budget:
                break
            candidates = [i for i in range(len(scores)) if i not in taken and np.isfinite(scores[i, t])]
            if not candidates:
                continue
            best = max(candidates, key=lambda i: (scores[i, t], -i))
            taken.add(best)
            picks.append((best, t))
            progressed = True
        if not progressed:
            break
    return picks


@settings(max_examples=60, deadline=None)
@given(
    scores=arrays(
        np.float64,
        st.tuples(st.integers(1, 12), st.integers(1, 4)),
        # Few distinct values, so ties are common; NaN and -inf rows must be skipped.
        elements=st.sampled_from([0.0, 0.25, 0.5, 1.0, -np.inf, np.nan]),
    ),
    budget=st.integers(0, 15),
)
def test_round_robin_matches_a_brute_force_scan(scores, budget):
    picks = round_robin(scores, budget)
    assert list(zip(picks.index.tolist(), picks.task.tolist(), strict=True)) == _brute_force_round_robin(
        scores, budget
    )
