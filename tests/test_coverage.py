"""Depth x coverage selection: hand-checked objective values, clustered data, and the greedy contract."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from instruct_assets.selection import coverage
from instruct_assets.selection.coverage import SIM_LEVELS, coverage_selection, rank_depth
from instruct_assets.selection.greedy import naive_greedy

LEVEL = 1 / SIM_LEVELS  # the rounding step of a stored similarity
INV_SQRT2 = 1 / np.sqrt(2)


def _clusters(per_cluster: int = 20, seed: int = 0) -> np.ndarray:
    """Three tight clusters around orthogonal axes of R^6: rows [0, p), [p, 2p), [2p, 3p)."""
    rng = np.random.default_rng(seed)
    centres = np.eye(6)[:3] * 10
    return np.vstack([c + 0.3 * rng.standard_normal((per_cluster, 6)) for c in centres])


def test_rank_depth_maps_any_scale_to_unit_interval_with_shared_ties():
    np.testing.assert_allclose(
        rank_depth(np.array([10.0, 3e6, 20.0, np.nan, 20.0])), [0, 1, 0.5, np.nan, 0.5]
    )
    np.testing.assert_array_equal(rank_depth(np.array([np.nan, 4.0])), [np.nan, 0.5])


def test_coverage_gains_are_facility_location_on_the_clipped_cosine():
    # x axis, y axis, the diagonal, and minus x (negative cosines count as 0).
    embeddings = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [-3.0, 0.0]])
    picked = coverage_selection(np.zeros(4), embeddings, budget=3, weight=0.0)
    # The diagonal covers x and y at 1/sqrt(2) and itself at 1, minus x not at all: (2/sqrt(2) + 1) / 4.
    # Then minus x, which only covers itself (1/4); then x and y tie, and the lower row wins.
    assert picked.index.tolist() == [2, 3, 0]
    np.testing.assert_allclose(
        picked.coverage_gain, [(2 * INV_SQRT2 + 1) / 4, 1 / 4, (1 - INV_SQRT2) / 4], atol=LEVEL
    )
    assert picked.coverage == pytest.approx((3 + INV_SQRT2) / 4, abs=LEVEL)
    np.testing.assert_array_equal(picked.gain, picked.coverage_gain)  # weight 0: the gain is coverage only


def test_coverage_alone_picks_one_sample_per_cluster():
    embeddings = _clusters()
    depth = np.r_[np.full(20, 9.0), np.zeros(40)]  # cluster 0 is the deepest: must not matter at weight 0
    picked = coverage_selection(depth, embeddings, budget=3, weight=0.0)
    assert sorted(picked.index // 20) == [0, 1, 2]
    assert np.all(np.diff(picked.gain) <= 0)


def test_depth_alone_picks_the_deepest_samples_in_order():
    embeddings = _clusters()
    depth = np.zeros(60)
    depth[[5, 6, 7, 8]] = [4.0, 3.0, 2.0, 3.0]  # all in cluster 0; 6 and 8 tie
    picked = coverage_selection(depth, embeddings, budget=4, weight=1.0)
    assert picked.index.tolist() == [5, 6, 8, 7]
    np.testing.assert_allclose(picked.gain, picked.depth / 4)


def test_a_mixed_weight_trades_depth_for_coverage():
    embeddings = _clusters()
    depth = np.r_[np.linspace(1, 2, 20), np.linspace(0, 0.1, 40)]  # cluster 0 is deeper everywhere
    deep = coverage_selection(depth, embeddings, budget=3, weight=1.0)
    mixed = coverage_selection(depth, embeddings, budget=3, weight=0.5)
    assert set(deep.index // 20) == {0}
    assert sorted(mixed.index // 20) == [0, 1, 2]
    assert mixed.coverage > deep.coverage


def test_nan_depth_is_never_picked_and_the_selection_comes_back_short():
    depth = np.array([np.nan, 1.0, np.nan, 2.0])
    picked = coverage_selection(depth, np.eye(4), budget=4, weight=0.0)
    assert sorted(picked.index.tolist()) == [1, 3]


def test_the_ground_set_is_a_seeded_sample_of_the_pool():
    embeddings = np.random.default_rng(1).standard_normal((300, 4))
    a = coverage_selection(np.zeros(300), embeddings, budget=2, ground_set_size=50, seed=5)
    b = coverage_selection(np.zeros(300), embeddings, budget=2, ground_set_size=50, seed=5)
    c = coverage_selection(np.zeros(300), embeddings, budget=2, ground_set_size=50, seed=6)
    assert len(a.ground) == 50 and len(np.unique(a.ground)) == 50
    np.testing.assert_array_equal(a.ground, b.ground)
    assert not np.array_equal(a.ground, c.ground)
    assert coverage_selection(np.zeros(30), embeddings[:30], budget=1).ground.tolist() == list(range(30))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="depth must be"):
        coverage_selection(np.zeros(3), np.eye(4), budget=1)
    with pytest.raises(ValueError, match="weight"):
        coverage_selection(np.zeros(4), np.eye(4), budget=1, weight=1.5)
    bad = np.eye(4)
    bad[2, 0] = np.inf
    with pytest.raises(ValueError, match="embeddings row 2"):
        coverage_selection(np.zeros(4), bad, budget=1)


def _contract_checking_greedy(gains, commit, n, k):
    """naive_greedy that, around every commit, checks what lazy greedy relies on: a gain is the same
    alone or in any batch, and no gain rises after a commit."""
    everything = np.arange(n, dtype=np.int64)
    reversed_halves = np.r_[everything[n // 2 :], everything[: n // 2]][::-1]

    def checked_commit(item):
        before = gains(everything)
        alone = np.concatenate([gains(np.array([i])) for i in everything])
        np.testing.assert_array_equal(alone, before)
        np.testing.assert_array_equal(gains(reversed_halves), before[reversed_halves])
        commit(item)
        after = gains(everything)
        assert np.all((after <= before) | np.isnan(before) | np.isneginf(before))

    return naive_greedy(gains, checked_commit, n, k)


def test_gains_keep_the_greedy_contract_exactly(monkeypatch):
    monkeypatch.setattr(coverage, "lazy_greedy", _contract_checking_greedy)
    rng = np.random.default_rng(11)
    embeddings = rng.standard_normal((200, 24)) + rng.standard_normal(24)  # correlated: cosines > 0
    depth = rng.random(200)
    depth[::17] = np.nan
    # Small blocks, so a batch spans several of them.
    monkeypatch.setattr(coverage, "ROWS_PER_BLOCK", 7)
    picked = coverage_selection(depth, embeddings, budget=6, weight=0.3)
    assert len(picked) == 6


@settings(max_examples=40, deadline=None)
@given(
    embeddings=arrays(
        np.float64,
        st.tuples(st.integers(1, 25), st.integers(1, 4)),
        # Few values: duplicate rows, zero rows and equal gains are common, so ties are exercised.
        elements=st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0]),
    ),
    data=st.data(),
    weight=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
    budget=st.integers(0, 30),
    ground_set_size=st.integers(1, 30),
)
def test_lazy_greedy_picks_what_the_naive_loop_picks(embeddings, data, weight, budget, ground_set_size):
    depth = data.draw(
        arrays(np.float64, len(embeddings), elements=st.sampled_from([0.0, 1.0, 2.5, 7.0, np.nan]))
    )
    args = (depth, embeddings, budget, weight, ground_set_size)
    lazy = coverage_selection(*args, lazy=True)
    naive = coverage_selection(*args, lazy=False)
    np.testing.assert_array_equal(lazy.index, naive.index)
    np.testing.assert_array_equal(lazy.gain, naive.gain)
    np.testing.assert_array_equal(lazy.coverage_gain, naive.coverage_gain)
    assert lazy.coverage == naive.coverage
    assert len(lazy) == min(budget, int((~np.isnan(depth)).sum()))
