"""Greedy selection over gains that only shrink as items are picked: the naive loop and Minoux's lazy greedy.

Contract for both functions:

- `gains(idx)` returns the current gain of each item in `idx` (int64 indices), given every item committed
  so far. An item's value depends only on its own index and the committed state, never on which other
  indices are in `idx`, and it never increases after a commit ("diminishing" gains: submodular coverage,
  IterIT's decayed n-gram weights).
- `commit(i)` updates that state after item i is picked.
- k items are picked (fewer when n < k, or when every item left has a gain of -inf or NaN: such items
  are never picked). Each step picks the largest current gain; ties go to the lowest index.

Both return the same order and gains bit for bit when `gains` keeps the contract, including computing a
value identically whether it is evaluated alone or in a batch (floating-point sums must not depend on the
batch). The lazy version re-evaluates an item only when a stale upper bound of it reaches the top of the
heap, so it usually makes a small fraction of the naive loop's evaluations.
"""

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Gains = Callable[[np.ndarray], np.ndarray]
Commit = Callable[[int], None]


@dataclass(frozen=True)
class GreedyResult:
    """`order`: int64 indices in pick order; `gains`: float64 gain of each pick when it was picked;
    `evaluations`: how many per-item gain evaluations were made (the cost the lazy version saves)."""

    order: np.ndarray
    gains: np.ndarray
    evaluations: int


def _picks_wanted(n: int, k: int) -> int:
    if n < 0 or k < 0:
        raise ValueError(f"greedy needs n >= 0 items and k >= 0 picks, got n={n}, k={k}")
    return min(n, k)


def _evaluate(gains: Gains, idx: np.ndarray) -> np.ndarray:
    values = np.asarray(gains(idx), dtype=np.float64)
    if values.shape != idx.shape:
        raise ValueError(f"gains(idx) returned shape {values.shape} for {len(idx)} indices; one per index")
    return values


def _result(order: list[int], picked_gains: list[float], evaluations: int) -> GreedyResult:
    return GreedyResult(
        order=np.array(order, dtype=np.int64),
        gains=np.array(picked_gains, dtype=np.float64),
        evaluations=evaluations,
    )


def naive_greedy(gains: Gains, commit: Commit, n: int, k: int) -> GreedyResult:
    """The reference loop: every step evaluates all remaining items in one `gains` call and picks the
    argmax (first in index order among equals). See the module docstring for the contract."""
    wanted = _picks_wanted(n, k)
    remaining = np.arange(n if wanted else 0, dtype=np.int64)
    order: list[int] = []
    picked_gains: list[float] = []
    evaluations = 0
    while len(order) < wanted and len(remaining):
        current = _evaluate(gains, remaining)
        evaluations += len(remaining)
        # NaN compares false, so this drops NaN and -inf alike; a dropped item never comes back.
        pickable = current > -np.inf
        remaining, current = remaining[pickable], current[pickable]
        if not len(remaining):
            break
        best = int(np.argmax(current))
        item = int(remaining[best])
        order.append(item)
        picked_gains.append(float(current[best]))
        commit(item)
        remaining = np.delete(remaining, best)
    return _result(order, picked_gains, evaluations)


def lazy_greedy(gains: Gains, commit: Commit, n: int, k: int) -> GreedyResult:
    """Minoux's lazy greedy: one batch evaluation of all items, then a heap of (-gain, index, stamp).

    `stamp` is the number of commits when the gain was computed. The top entry is picked if it is fresh
    (computed since the last commit); otherwise it is re-evaluated alone and pushed back. Stale gains
    are upper bounds (gains never increase), so a fresh top beats every other item's current gain, and
    on equal gains the heap's index order gives the naive loop's tie-break. See the module docstring.
    """
    wanted = _picks_wanted(n, k)
    order: list[int] = []
    picked_gains: list[float] = []
    if wanted == 0:
        return _result(order, picked_gains, 0)
    everything = np.arange(n, dtype=np.int64)
    initial = _evaluate(gains, everything)
    evaluations = n
    pickable = initial > -np.inf  # drops NaN and -inf
    heap = list(
        zip(
            (-initial[pickable]).tolist(),
            everything[pickable].tolist(),
            [0] * int(pickable.sum()),
            strict=True,
        )
    )
    heapq.heapify(heap)
    commits = 0
    while heap and len(order) < wanted:
        negative_gain, item, stamp = heap[0]
        if stamp == commits:
            heapq.heappop(heap)
            order.append(item)
            picked_gains.append(-negative_gain)
            commit(item)
            commits += 1
            continue
        gain = float(_evaluate(gains, np.array([item], dtype=np.int64))[0])
        evaluations += 1
        if gain > -np.inf:
            heapq.heapreplace(heap, (-gain, item, commits))
        else:
            heapq.heappop(heap)
    return _result(order, picked_gains, evaluations)
