"""IterIT selection (complexity first, diversity aware) as pure functions over arrays.

Per epoch the paper (IterIT, sections 2.1-2.3, Algorithm 1) keeps the a x M samples of highest IFD,
drops the unaligned ones (IFD >= 1, eq. 4), then picks M samples greedily by

    S_i = IFD_i x sum_g alpha_g TF-IDF(g, Y_i)          (eqs. 6 and 8)

over the response n-grams g (`tfidf.tfidf_features`), with every alpha_g starting at 1 and multiplied by
the decay b after each pick for the picked sample's n-grams (eq. 7). Weights only shrink and TF-IDF values
are non-negative, so every score only falls after a pick: the greedy runs as Minoux's lazy greedy
(`greedy.lazy_greedy`), which picks exactly what the paper's loop (`greedy.naive_greedy`) picks.

Bit-for-bit agreement needs a row's weighted sum to come out the same whether the row is scored alone or
in a batch: every sum is scipy's CSR matrix-vector product over that row, which adds the row's stored
terms one by one in column order, whatever other rows are in the product (a test pins this).
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from instruct_assets.selection.greedy import GreedyResult, lazy_greedy, naive_greedy

# Scoring a batch of at least this share of all rows multiplies the whole matrix and keeps the batch's
# entries, instead of copying the batch's rows out first (same per-row sums, less copying).
WHOLE_MATRIX_SHARE = 0.25


def iterit_candidates(ifd: np.ndarray, budget: int, a: float = 3.0) -> np.ndarray:
    """Epoch-0 candidates: indices of the round(a x budget) highest finite IFD values below 1, highest
    first (equal IFD: lowest index first).

    Unaligned samples (IFD >= 1) and non-finite IFD are dropped *before* the top a x M are taken.
    Algorithm 1 takes the top a x M first and filters IFD >= 1 afterwards; since the highest IFD values
    are exactly the unaligned ones, that order can leave fewer than M candidates (none at all when more
    than a x M samples are unaligned), so we filter first.
    """
    ifd = np.asarray(ifd, dtype=np.float64)
    if budget < 0 or a < 1:
        raise ValueError(f"iterit_candidates needs budget >= 0 and a >= 1, got budget={budget}, a={a}")
    _reject_negative(ifd, "iterit_candidates")
    aligned = np.flatnonzero(np.isfinite(ifd) & (ifd < 1.0))
    # A stable sort of -IFD over ascending indices breaks ties by the lower index.
    by_ifd = aligned[np.argsort(-ifd[aligned], kind="stable")]
    return by_ifd[: round(a * budget)].astype(np.int64)


class IterItScores:
    """The state of one IterIT selection: n-gram weights alpha and the scores they give.

    `gains` and `commit` are what `greedy.lazy_greedy` / `naive_greedy` expect; `diversity(idx)` is
    sum_g alpha_g TF-IDF(g, Y_i) for each row in idx at the current weights.
    """

    def __init__(self, ifd: np.ndarray, features: sparse.spmatrix, decay: float):
        self.ifd = np.asarray(ifd, dtype=np.float64)
        self.features = sparse.csr_matrix(features)
        self.decay = float(decay)
        _validate(self.ifd, self.features, self.decay)
        self.alpha = np.ones(self.features.shape[1], dtype=np.float64)

    def diversity(self, idx: np.ndarray) -> np.ndarray:
        if len(idx) == 1:
            return self._row(int(idx[0])) @ self.alpha
        if len(idx) >= WHOLE_MATRIX_SHARE * len(self.ifd):
            return (self.features @ self.alpha)[idx]
        return self.features[idx] @ self.alpha

    def gains(self, idx: np.ndarray) -> np.ndarray:
        return self.ifd[idx] * self.diversity(idx)

    def _row(self, i: int) -> sparse.csr_matrix:
        """Row i as a one-row matrix over the big one's arrays: the lazy greedy scores rows one at a time,
        and this costs about 40% of `features[[i]]` (scipy's fancy indexing copies and checks more)."""
        start, end = self.features.indptr[i], self.features.indptr[i + 1]
        indptr = np.array([0, end - start], dtype=self.features.indptr.dtype)
        row = (self.features.data[start:end], self.features.indices[start:end], indptr)
        return sparse.csr_matrix(row, shape=(1, self.features.shape[1]), copy=False)

    def commit(self, i: int) -> None:
        start, end = self.features.indptr[i], self.features.indptr[i + 1]
        self.alpha[self.features.indices[start:end]] *= self.decay


def iterit_greedy(
    ifd: np.ndarray, features: sparse.csr_matrix, budget: int, decay: float = 0.1, lazy: bool = True
) -> GreedyResult:
    """Pick `budget` of the candidates (rows of `features`, IFD in `ifd`) by IterIT's score.

    `ifd` must hold only aligned candidates (0 <= IFD < 1, e.g. `ifd[iterit_candidates(...)]`), and
    `features` the TF-IDF of their responses over this candidate set (`tfidf_features`). `decay` is the
    paper's b: 0.1 by default, 0 for single-task data (a picked n-gram then adds nothing more). The result's
    order indexes rows of `features`; its gains are the scores S_i at pick time. `lazy=False` runs the
    naive loop instead (same result, for checking and benchmarking).
    """
    scores = IterItScores(ifd, features, decay)
    greedy = lazy_greedy if lazy else naive_greedy
    return greedy(scores.gains, scores.commit, len(scores.ifd), budget)


@dataclass(frozen=True)
class IterItPick:
    """Why a row was picked: its 1-based rank, IFD, diversity at pick time and score (IFD x diversity)."""

    rank: int
    index: int
    ifd: float
    diversity: float
    score: float

    @property
    def reason(self) -> str:
        return f"iterit: rank {self.rank}, ifd {self.ifd:.4f} x diversity {self.diversity:.3f}"


def iterit_picks(
    ifd: np.ndarray, features: sparse.csr_matrix, result: GreedyResult, decay: float = 0.1
) -> list[IterItPick]:
    """The picks of `iterit_greedy(ifd, features, ..., decay)` with their diversity at pick time.

    The weights are replayed pick by pick; a replayed score that differs from the result's means the
    arguments are not the ones the selection ran with, and raises ValueError.
    """
    scores = IterItScores(ifd, features, decay)
    picks = []
    for rank, (index, gain) in enumerate(zip(result.order.tolist(), result.gains.tolist(), strict=True), 1):
        row = np.array([index], dtype=np.int64)
        diversity = scores.diversity(row)
        score = float((scores.ifd[row] * diversity)[0])
        if score != gain:
            raise ValueError(
                f"replaying pick {rank} (row {index}) gives score {score!r}, the selection had {gain!r}: "
                "pass the ifd, features and decay the selection ran with"
            )
        picks.append(IterItPick(rank, index, float(scores.ifd[index]), float(diversity[0]), score))
        scores.commit(index)
    return picks


def _reject_negative(ifd: np.ndarray, caller: str) -> None:
    negative = np.flatnonzero(ifd < 0)
    if len(negative):
        raise ValueError(
            f"{caller}: row {negative[0]} has IFD {ifd[negative[0]]}, a ratio of perplexities cannot be "
            "negative: check the IFD scores"
        )


def _validate(ifd: np.ndarray, features: sparse.csr_matrix, decay: float) -> None:
    if ifd.ndim != 1 or features.shape[0] != len(ifd):
        raise ValueError(f"iterit: {len(ifd)} IFD values for {features.shape[0]} feature rows; one per row")
    _reject_negative(ifd, "iterit_greedy")
    unaligned = np.flatnonzero(~(ifd < 1.0))  # also NaN
    if len(unaligned):
        raise ValueError(
            f"iterit_greedy: row {unaligned[0]} has IFD {ifd[unaligned[0]]} (>= 1 is unaligned, or not a "
            f"number; {len(unaligned)} such rows): drop them first, e.g. with iterit_candidates"
        )
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"iterit_greedy: decay must be in [0, 1], got {decay}")
    if features.nnz and not features.data.min() >= 0.0:
        raise ValueError("iterit_greedy: features have negative or NaN values; TF-IDF is never negative")
