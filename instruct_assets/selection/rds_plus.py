"""RDS+ (Ivison et al., 2025, "Large-Scale Data Selection for Instruction Tuning") selection over embeddings.

The embeddings come from the LLM backend: in the reference (`compute_influence_cosinesim.py`,
`--pooling weighted_mean`, after SGPT) the final hidden states of the whole tokenized conversation, BOS,
prompt and answer alike, weighted (i + 1) / sum_j (j + 1) for 0-based position i, then L2-normalised.
Here the pool is scored against each target task's query examples and picked round-robin across tasks.

Where this follows the reference code (hamishivi/automated-instruction-selection, `minimal_multitask/`):

- `compute_influence_cosinesim.py`: cosine similarity of L2-normalised embeddings, every query example
  against every pool sample.
- `get_top_aggregated_influences.py` with `--selection_method max` (the README's round-robin command): a
  sample's score for a task is the max over that task's query examples; `mean` is the other choice there.
  Single-task selection (`get_top_optimized.py`) ranks by the same max.
- Tasks take turns in a fixed order (the reference's is its score files' order, alphabetical under the
  README's glob), each taking its best remaining sample by descending score, ties in row order.

Where it departs, on purpose:

- A task whose best sample was already taken by another task takes its next best in the same turn; the
  reference pops the taken one and loses the turn, so tasks whose favourites overlap get fewer picks.
- A pool of fewer samples than the budget ends the selection instead of raising from an empty list.
- A pool vector of norm zero has no direction: its score is -inf and it is never picked.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["AGGREGATIONS", "RoundRobinPicks", "round_robin", "task_similarity"]

AGGREGATIONS = ("max", "mean")
POOL_CHUNK_ROWS = 8192  # (chunk, queries) float32 blocks: about 30 MB at 1k query examples


@dataclass(frozen=True)
class RoundRobinPicks:
    """One entry per pick, in pick order. `task` is the column of the score matrix (the task's position in
    `task_similarity`'s name-sorted list); `round` and `rank` count from 1."""

    index: np.ndarray  # int64 pool row
    rank: np.ndarray  # int64, 1 for the first pick
    task: np.ndarray  # int64 column the sample was picked for
    score: np.ndarray  # float64 score of the sample for that task
    round: np.ndarray  # int64, the turn of the task that picked it

    def __len__(self) -> int:
        return len(self.index)


def _unit_rows(vectors: np.ndarray, what: str, first_row: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """float32 rows scaled to norm 1 and a mask of the rows of norm zero (left at zero)."""
    rows = np.asarray(vectors, dtype=np.float32)
    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    if len(bad):
        raise ValueError(
            f"{what} row {first_row + bad[0]} has a NaN or infinite value; re-embed that sample or drop it"
        )
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    zero = norms[:, 0] == 0
    return rows / np.where(norms == 0, 1, norms), zero


def task_similarity(
    pool: np.ndarray,
    queries: Mapping[str, np.ndarray],
    aggregate: str = "max",
    chunk_rows: int = POOL_CHUNK_ROWS,
) -> tuple[list[str], np.ndarray]:
    """Each pool sample's cosine similarity to each task's query examples, reduced per task.

    pool is (n, d); queries maps a task name to its (q, d) query embeddings. Returns the task names in
    sorted order and float32 scores (n, T) with column t for tasks[t]: the max (the reference's choice)
    or the mean over that task's query examples. Pool rows of norm zero score -inf. The pool is read in
    blocks of `chunk_rows`, so memory beyond the result is O(chunk_rows * (d + total query examples)).
    """
    if aggregate not in AGGREGATIONS:
        raise ValueError(f"aggregate must be one of {AGGREGATIONS}, got {aggregate!r}")
    if pool.ndim != 2:
        raise ValueError(f"pool must be (n, d), got shape {pool.shape}")
    if not queries:
        raise ValueError("no query tasks given; pass at least one task's query embeddings")
    tasks = sorted(queries)
    blocks = []
    for task in tasks:
        block = np.asarray(queries[task])
        if block.ndim != 2 or len(block) == 0 or block.shape[1] != pool.shape[1]:
            raise ValueError(f"queries[{task!r}] must be (q >= 1, {pool.shape[1]}), got shape {block.shape}")
        unit, zero = _unit_rows(block, f"queries[{task!r}]")
        if zero.any():
            raise ValueError(f"queries[{task!r}] row {np.flatnonzero(zero)[0]} is all zeros; re-embed it")
        blocks.append(unit)
    query_matrix = np.concatenate(blocks).T  # (d, total query examples)
    bounds = np.cumsum([0] + [len(b) for b in blocks])
    reduce = np.max if aggregate == "max" else np.mean

    scores = np.empty((len(pool), len(tasks)), dtype=np.float32)
    for start in range(0, len(pool), chunk_rows):
        unit, zero = _unit_rows(pool[start : start + chunk_rows], "pool", start)
        sims = unit @ query_matrix
        for t in range(len(tasks)):
            scores[start : start + len(unit), t] = reduce(sims[:, bounds[t] : bounds[t + 1]], axis=1)
        scores[start : start + len(unit)][zero] = -np.inf
    return tasks, scores


def round_robin(scores: np.ndarray, budget: int) -> RoundRobinPicks:
    """Pick up to `budget` distinct pool rows, tasks (columns of `scores`) taking turns in column order.

    On its turn a task takes its highest-scoring row not picked yet, ties to the lowest row. NaN and
    infinite scores are never picked; a task with nothing left drops out of the turns, and the selection
    stops at the budget or when no task has anything left. One stable argsort per task, then a pointer
    per task walks past rows already taken: O(T n log n + T budget).
    """
    if scores.ndim != 2:
        raise ValueError(f"scores must be (n, tasks), got shape {scores.shape}")
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    n, num_tasks = scores.shape
    orders = []
    for t in range(num_tasks):
        column = scores[:, t].astype(np.float64)
        finite = np.isfinite(column)
        # Stable sort of the negated scores: descending, ties in row order; non-finite rows are left out.
        order = np.flatnonzero(finite)[np.argsort(-column[finite], kind="stable")]
        orders.append(order)

    taken = np.zeros(n, dtype=bool)
    pointers = [0] * num_tasks
    active = [t for t in range(num_tasks) if len(orders[t])]
    picks: list[tuple[int, int, int]] = []  # (row, task, round)
    turn = 0
    while active and len(picks) < budget:
        turn += 1
        still_active = []
        for t in active:
            if len(picks) >= budget:
                break
            order, p = orders[t], pointers[t]
            while p < len(order) and taken[order[p]]:
                p += 1
            if p == len(order):
                continue
            row = int(order[p])
            taken[row] = True
            pointers[t] = p + 1
            picks.append((row, t, turn))
            still_active.append(t)
        active = still_active

    rows = np.array([p[0] for p in picks], dtype=np.int64)
    task = np.array([p[1] for p in picks], dtype=np.int64)
    return RoundRobinPicks(
        index=rows,
        rank=np.arange(1, len(picks) + 1, dtype=np.int64),
        task=task,
        score=scores[rows, task].astype(np.float64),
        round=np.array([p[2] for p in picks], dtype=np.int64),
    )
