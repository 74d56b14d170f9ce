"""Near-duplicate clusters from LSH band keys: rows sharing a band key are linked, clusters are the
connected components, and each cluster's survivor is its best-ranked row."""

import numpy as np


def band_edges(keys: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """(m, 2) int64 edges linking every eligible row to the lowest-index eligible row sharing one of
    its band keys. Rows are expected in rank order, so that row is the best-ranked of its bucket.

    A star per bucket, not all pairs: a bucket of k rows gives k - 1 edges, so a template repeated a
    million times costs a million edges, not 10^12.
    """
    rows = np.flatnonzero(eligible)
    edges = []
    for band in range(keys.shape[1]):
        band_values = keys[rows, band]
        order = np.argsort(band_values, kind="stable")  # stable: rows of a bucket stay in rank order
        sorted_values = band_values[order]
        starts_bucket = np.empty(len(order), dtype=bool)
        starts_bucket[:1] = True
        starts_bucket[1:] = sorted_values[1:] != sorted_values[:-1]
        bucket_head = order[np.maximum.accumulate(np.where(starts_bucket, np.arange(len(order)), 0))]
        linked = ~starts_bucket
        if linked.any():
            edges.append(np.stack([rows[order[linked]], rows[bucket_head[linked]]], axis=1))
    return np.concatenate(edges) if edges else np.zeros((0, 2), dtype=np.int64)


def cluster_survivors(n_rows: int, edges: np.ndarray) -> np.ndarray:
    """For each row, the lowest row index in its connected component (itself when it is unlinked)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(edges) == 0:
        return np.arange(n_rows, dtype=np.int64)
    graph = coo_matrix(
        (np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n_rows, n_rows)
    )
    _, labels = connected_components(graph, directed=False)
    survivor_of_label = np.full(labels.max() + 1, n_rows, dtype=np.int64)
    np.minimum.at(survivor_of_label, labels, np.arange(n_rows, dtype=np.int64))
    return survivor_of_label[labels]


def near_duplicate_of(keys: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """For each row (in rank order), the index of the row it duplicates, or -1 when it survives.

    Ineligible rows (no shingles, or already dropped as exact duplicates) are never linked.
    """
    survivors = cluster_survivors(len(keys), band_edges(keys, eligible))
    return np.where(survivors == np.arange(len(keys)), -1, survivors)
