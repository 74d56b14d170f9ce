"""Depth x semantic coverage selection: a monotone submodular objective, maximised greedily.

The paper (instruction depth and semantic coverage, note 001) names the two quantities and selects to
maximise both, but the note is a summary without the algorithm, so the choices here are ours:

- Depth is whatever per-sample score the caller passes (IFD, loss, a dev-loss-reduction estimate), higher
  meaning deeper, mapped to [0, 1] by average rank: IFD and loss live on different scales, and a rank
  makes the blend with coverage independent of either. Samples with a NaN depth are never picked.
- Coverage is facility location over G representative points (a seeded random sample of the pool):
  F(S) = sum_j max_{i in S} sim(i, j) / G, sim the cosine of L2-normalised embeddings clipped at 0. It
  rewards the first sample near a region and little the tenth, which is what "coverage" asks for.
- f(S) = weight * sum_{i in S} depth_i / budget + (1 - weight) * F(S). Both terms are monotone
  submodular and lie in [0, 1], so greedy gets (1 - 1/e) of the optimum and lazy evaluation is exact.

Lazy greedy trusts that a gain computed alone equals the gain computed in a batch and never rises after
a commit. Floating-point sums promise neither (BLAS picks kernels by shape), so every sample's clipped
similarities to the ground set are computed once, in fixed blocks, and kept as uint16 levels of
1/SIM_LEVELS (2 bytes x n x G: 400 MB at 100k x 2048; lower ground_set_size for larger pools). A gain is
then a sum of integer differences, exact in any order and batch, and the rounding moves a cosine by at
most 1/(2 SIM_LEVELS). Computing rows on demand instead costs a (d, G) matrix-vector product for each of
the lazy re-evaluations (about 160 per pick on clustered data): minutes at 100k x 5k instead of seconds.

F saturates near 1 once the selection has a close neighbour for every ground point (at the latest when it
holds them all, so a budget near or above G); from there on depth alone, or at weight 0 the row order,
decides. Keep ground_set_size well above the budget when coverage should keep steering.
"""

from dataclasses import dataclass

import numpy as np

from instruct_assets.selection.greedy import lazy_greedy, naive_greedy

__all__ = ["CoverageSelection", "coverage_selection", "ground_similarities", "rank_depth"]

SIM_LEVELS = 65535  # a clipped cosine s is kept as round(s * SIM_LEVELS) in a uint16
ROWS_PER_BLOCK = 4096  # (block, G) blocks: 8 to 32 MB at G = 2048
DEFAULT_GROUND_SET_SIZE = 2048


@dataclass(frozen=True)
class CoverageSelection:
    """One entry per pick, in pick order; gains are those at pick time."""

    index: np.ndarray  # int64 pool row
    rank: np.ndarray  # int64, 1 for the first pick
    depth: np.ndarray  # float64 rank-normalised depth in [0, 1]
    coverage_gain: np.ndarray  # float64 increase of F(S), before the (1 - weight) factor
    gain: np.ndarray  # float64 increase of the objective f(S)
    coverage: float  # F(S) of the whole selection
    ground: np.ndarray  # int64 pool rows used as the ground set
    evaluations: int  # gain evaluations the greedy made

    def __len__(self) -> int:
        return len(self.index)


def rank_depth(depth: np.ndarray) -> np.ndarray:
    """Depth scores mapped to [0, 1] by average rank among the non-NaN ones (ties share a value; a single
    score, or all equal, maps to 0.5). NaN stays NaN."""
    from scipy.stats import rankdata

    values = np.asarray(depth, dtype=np.float64)
    scored = ~np.isnan(values)
    ranked = np.full(values.shape, np.nan)
    m = int(scored.sum())
    if m == 1:
        ranked[scored] = 0.5
    elif m > 1:
        ranked[scored] = (rankdata(values[scored]) - 1) / (m - 1)
    return ranked


def _unit_rows(rows: np.ndarray, first_row: int) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    if len(bad):
        raise ValueError(
            f"embeddings row {first_row + bad[0]} has a NaN or infinite value; re-embed or drop it"
        )
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.where(norms == 0, 1, norms)).astype(np.float32)  # norm-zero rows stay zero


def ground_similarities(embeddings: np.ndarray, ground: np.ndarray) -> np.ndarray:
    """uint16 (n, G): round(SIM_LEVELS * max(0, cosine(embeddings[i], embeddings[ground[j]])))."""
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must be (n, d), got shape {embeddings.shape}")
    ground_t = np.ascontiguousarray(_unit_rows(embeddings[ground], 0).T)
    levels = np.empty((len(embeddings), len(ground)), dtype=np.uint16)
    for start in range(0, len(embeddings), ROWS_PER_BLOCK):
        sims = _unit_rows(embeddings[start : start + ROWS_PER_BLOCK], start) @ ground_t
        np.clip(sims, 0, 1, out=sims)
        levels[start : start + len(sims)] = np.rint(sims * SIM_LEVELS)
    return levels


def _ground_rows(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False)).astype(np.int64)


def coverage_selection(
    depth: np.ndarray,
    embeddings: np.ndarray,
    budget: int,
    weight: float = 0.5,
    ground_set_size: int = DEFAULT_GROUND_SET_SIZE,
    seed: int = 0,
    lazy: bool = True,
) -> CoverageSelection:
    """Greedily pick up to `budget` rows maximising weight * depth / budget + (1 - weight) * coverage.

    depth (n,) is higher-is-deeper in any scale (see rank_depth); embeddings (n, d) any sentence or LM
    embedding. Fewer than `budget` rows come back when fewer have a depth. Ties go to the lowest row.
    """
    depth = np.asarray(depth)
    if depth.shape != (len(embeddings),):
        raise ValueError(f"depth must be ({len(embeddings)},) like embeddings' rows, got {depth.shape}")
    if not 0 <= weight <= 1:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    if budget < 0 or ground_set_size < 1:
        raise ValueError(f"budget must be >= 0 and ground_set_size >= 1, got {budget}, {ground_set_size}")
    depth01 = rank_depth(depth)
    ground = _ground_rows(len(embeddings), ground_set_size, seed)
    levels = ground_similarities(embeddings, ground)
    depth_term = np.where(np.isnan(depth01), -np.inf, weight * depth01 / max(budget, 1))
    best = np.zeros(len(ground), dtype=np.uint16)  # each ground point's best level in the selection
    best_total = 0
    coverage_scale = float(len(ground) * SIM_LEVELS)
    committed: list[float] = []

    def coverage_gains(rows: np.ndarray) -> np.ndarray:
        if len(rows) > ROWS_PER_BLOCK:
            blocks = range(0, len(rows), ROWS_PER_BLOCK)
            return np.concatenate([coverage_gains(rows[i : i + ROWS_PER_BLOCK]) for i in blocks])
        block = levels[rows]
        np.maximum(block, best, out=block)
        # sum_j max(level_ij, best_j) - sum_j best_j: integers, exact in any order and batch.
        return (block.sum(axis=1, dtype=np.int64) - best_total) / coverage_scale

    def gains(rows: np.ndarray) -> np.ndarray:
        return depth_term[rows] + (1 - weight) * coverage_gains(rows)

    def commit(row: int) -> None:
        nonlocal best_total
        committed.append(float(coverage_gains(np.array([row]))[0]))
        np.maximum(best, levels[row], out=best)
        best_total = int(best.sum(dtype=np.int64))

    greedy = lazy_greedy if lazy else naive_greedy
    result = greedy(gains, commit, len(embeddings), min(budget, int(np.isfinite(depth_term).sum())))
    index = result.order.astype(np.int64)
    return CoverageSelection(
        index=index,
        rank=np.arange(1, len(index) + 1, dtype=np.int64),
        depth=depth01[index],
        coverage_gain=np.array(committed, dtype=np.float64),
        gain=result.gains.astype(np.float64),
        coverage=best_total / coverage_scale,
        ground=ground,
        evaluations=result.evaluations,
    )
