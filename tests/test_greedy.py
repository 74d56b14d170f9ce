"""Lazy greedy against the naive loop it replaces: same picks, same gains, fewer evaluations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instruct_assets.selection.greedy import lazy_greedy, naive_greedy

FAST = settings(max_examples=60, deadline=None)


class DecayedCoverage:
    """Gain of row i = sum_j weights[i, j] * alpha[j]; picking i multiplies alpha[j] by `decay` where
    weights[i, j] > 0 (IterIT's update, dense). Columns are summed in a fixed order, element-wise over
    the batch, so a row's value does not depend on the other rows evaluated with it."""

    def __init__(self, weights: np.ndarray, decay: float, banned=(), undefined=()):
        self.weights, self.decay = weights, decay
        self.alpha = np.ones(weights.shape[1])
        self.banned = np.zeros(len(weights), bool)
        self.banned[list(banned)] = True
        self.undefined = np.zeros(len(weights), bool)
        self.undefined[list(undefined)] = True
        self.committed: list[int] = []

    def gains(self, idx: np.ndarray) -> np.ndarray:
        total = np.zeros(len(idx))
        for j in range(self.weights.shape[1]):
            total += self.weights[idx, j] * self.alpha[j]
        total[self.banned[idx]] = -np.inf
        total[self.undefined[idx]] = np.nan
        return total

    def commit(self, i: int) -> None:
        self.alpha[self.weights[i] > 0] *= self.decay
        self.committed.append(i)


class FacilityLocation:
    """Gain of row i = sum_j max(similarity[i, j] - best[j], 0), the classic submodular coverage."""

    def __init__(self, similarity: np.ndarray):
        self.similarity = similarity
        self.best = np.zeros(similarity.shape[1])

    def gains(self, idx: np.ndarray) -> np.ndarray:
        total = np.zeros(len(idx))
        for j in range(self.similarity.shape[1]):
            total += np.maximum(self.similarity[idx, j] - self.best[j], 0.0)
        return total

    def commit(self, i: int) -> None:
        self.best = np.maximum(self.best, self.similarity[i])


def run_both(make, n: int, k: int):
    naive_state, lazy_state = make(), make()
    naive = naive_greedy(naive_state.gains, naive_state.commit, n, k)
    lazy = lazy_greedy(lazy_state.gains, lazy_state.commit, n, k)
    return naive, lazy


def assert_same_selection(naive, lazy):
    np.testing.assert_array_equal(lazy.order, naive.order)
    # Bit for bit, not approximately: both must see the very same values.
    assert lazy.gains.tobytes() == naive.gains.tobytes()
    assert lazy.order.dtype == np.int64 and lazy.gains.dtype == np.float64


weight_matrices = st.integers(0, 40).flatmap(
    lambda n: st.integers(1, 8).flatmap(
        lambda m: st.lists(
            st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.0, 0.5, 0.1, 3.7]), min_size=m, max_size=m),
            min_size=n,
            max_size=n,
        ).map(lambda rows, m=m: np.array(rows, dtype=np.float64).reshape(len(rows), m))
    )
)


@FAST
@given(
    weights=weight_matrices,
    decay=st.sampled_from([0.0, 0.1, 0.5, 0.999999, 1 - 2**-52, 1.0]),
    k=st.integers(0, 50),
)
def test_lazy_picks_what_naive_picks_on_tie_heavy_decayed_coverage(weights, decay, k):
    naive, lazy = run_both(lambda: DecayedCoverage(weights, decay), len(weights), k)
    assert_same_selection(naive, lazy)
    assert len(naive.order) == min(k, len(weights))
    assert len(set(naive.order.tolist())) == len(naive.order)


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), k=st.integers(1, 70))
def test_lazy_picks_what_naive_picks_on_random_facility_location(seed, n, k):
    rng = np.random.default_rng(seed)
    similarity = rng.random((n, 6)) ** 3
    naive, lazy = run_both(lambda: FacilityLocation(similarity), n, k)
    assert_same_selection(naive, lazy)


@FAST
@given(
    weights=weight_matrices,
    banned=st.sets(st.integers(0, 39)),
    undefined=st.sets(st.integers(0, 39)),
    k=st.integers(0, 50),
)
def test_items_with_minus_inf_or_nan_gain_are_never_picked(weights, banned, undefined, k):
    n = len(weights)
    banned, undefined = {i for i in banned if i < n}, {i for i in undefined if i < n}
    naive, lazy = run_both(lambda: DecayedCoverage(weights, 0.1, banned, undefined), n, k)
    assert_same_selection(naive, lazy)
    assert not set(naive.order.tolist()) & (banned | undefined)
    assert len(naive.order) == min(k, n - len(banned | undefined))


def test_ties_go_to_the_lowest_index():
    naive, lazy = run_both(lambda: DecayedCoverage(np.ones((6, 1)), 1.0), 6, 4)
    assert_same_selection(naive, lazy)
    assert naive.order.tolist() == [0, 1, 2, 3]
    assert naive.gains.tolist() == [1.0] * 4


def test_equal_gains_after_decay_resolve_by_index_not_by_heap_insertion_order():
    # Row 3 starts highest; after it is picked, rows 0..2 all drop to exactly 1.0 (decay 0 zeroes the
    # shared column), so the lowest index must win although row 2 had the highest initial bound; then
    # rows 1 and 2 tie again at 0.
    weights = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0], [0.0, 9.0]])
    naive, lazy = run_both(lambda: DecayedCoverage(weights, 0.0), 4, 4)
    assert_same_selection(naive, lazy)
    assert naive.order.tolist() == [3, 0, 1, 2]
    assert naive.gains.tolist() == [9.0, 1.0, 0.0, 0.0]


def test_hand_checked_coverage_order():
    # alpha starts at 1; picking a row multiplies its columns' alpha by 0.5.
    # step 1: gains 3, 2, 2 -> row 0 (cols 0,1,2 halve)
    # step 2: row 1 = 0.5 + 0.5 = 1.0, row 2 = 0.5 + 1 = 1.5 -> row 2 (cols 2,3 halve)
    weights = np.array([[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
    naive, lazy = run_both(lambda: DecayedCoverage(weights, 0.5), 3, 3)
    assert_same_selection(naive, lazy)
    assert naive.order.tolist() == [0, 2, 1]
    assert naive.gains.tolist() == [3.0, 1.5, 1.0]


def test_a_pick_that_makes_every_other_gain_minus_inf_stops_the_selection():
    class Exclusive(DecayedCoverage):
        def commit(self, i: int) -> None:
            self.banned[:] = True

    naive, lazy = run_both(lambda: Exclusive(np.arange(1.0, 6.0).reshape(5, 1), 0.5), 5, 3)
    assert_same_selection(naive, lazy)
    assert naive.order.tolist() == [4]


@pytest.mark.parametrize(("n", "k"), [(0, 0), (0, 5), (1, 0), (1, 1), (1, 3), (3, 10)])
def test_small_and_oversized_requests(n, k):
    weights = np.arange(n, dtype=np.float64).reshape(n, 1) + 1.0
    naive, lazy = run_both(lambda: DecayedCoverage(weights, 0.5), n, k)
    assert_same_selection(naive, lazy)
    assert naive.order.tolist() == list(range(n - 1, n - 1 - min(n, k), -1))


def test_commit_is_called_once_per_pick_in_pick_order():
    rng = np.random.default_rng(7)
    weights = rng.random((30, 5))
    state = DecayedCoverage(weights, 0.3)
    result = lazy_greedy(state.gains, state.commit, 30, 12)
    assert state.committed == result.order.tolist()


def test_lazy_makes_far_fewer_evaluations_than_naive():
    rng = np.random.default_rng(3)
    weights = (rng.random((400, 50)) < 0.1) * rng.random((400, 50))
    naive, lazy = run_both(lambda: DecayedCoverage(weights, 0.1), 400, 100)
    assert_same_selection(naive, lazy)
    assert naive.evaluations == sum(400 - step for step in range(100))
    assert lazy.evaluations < naive.evaluations / 5


def test_negative_sizes_are_rejected():
    state = DecayedCoverage(np.ones((2, 1)), 0.5)
    with pytest.raises(ValueError, match="k >= 0"):
        lazy_greedy(state.gains, state.commit, 2, -1)
    with pytest.raises(ValueError, match="n >= 0"):
        naive_greedy(state.gains, state.commit, -1, 2)
