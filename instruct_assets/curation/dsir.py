"""DSIR, data selection with importance resampling (Xie et al., 2023), as pure functions over text batches.

Configured alike, each step gives what `data-selection`'s HashedNgramDSIR (num_proc=1) gives:
`corpus_counts` is `_fit_bow`, `log_importance_ratio` its `log_diff`, `score_texts` the log importance
weights and example lengths of `compute_importance_weights`, and `per_domain_quota` plus `gumbel_top_k` the
choice `resample` makes after `np.random.seed(seed)`. Features come from dsir_features, which says where
they could differ from the reference's. A caller fits on raw and target batches, scores the raw batches,
keeps the long enough rows and selects:

    raw = corpus_counts(raw_batches, features, max_ngrams=AUTO_NGRAMS_PER_BUCKET * features.num_buckets)
    log_diff = log_importance_ratio(corpus_counts(target_batches, features), raw)
    log_weights, tokens = score_texts(raw_texts, features, log_diff)  # per batch, then concatenated
    chosen = gumbel_top_k(log_weights, tokens >= MIN_EXAMPLE_TOKENS, per_domain_quota(k, [1.0]), seed)
"""

from collections.abc import Iterable, Sequence

import numpy as np

from instruct_assets.curation.dsir_features import NgramFeatures, Texts, iter_chunk_features

__all__ = [
    "AUTO_NGRAMS_PER_BUCKET",
    "MIN_EXAMPLE_TOKENS",
    "NgramFeatures",
    "bucket_counts",
    "corpus_counts",
    "gumbel_top_k",
    "log_importance_ratio",
    "per_domain_quota",
    "score_texts",
]

AUTO_NGRAMS_PER_BUCKET = 100_000  # the reference's num_tokens_to_fit="auto": 100k n-grams per bucket
MIN_EXAMPLE_TOKENS = 100  # the reference's min_example_length
LOG_SMOOTHING = 1e-8  # added to both probabilities before the log, as the reference does


def bucket_counts(texts: Texts, features: NgramFeatures):
    """A scipy CSR matrix (len(texts), num_buckets) of int64: row i is the reference's
    `get_ngram_counts(texts[i], n=features.ngrams, num_buckets=features.num_buckets)`."""
    from scipy import sparse

    docs, buckets, offset = [], [], 0
    for chunk in iter_chunk_features(texts, features):
        docs.append(chunk.doc.astype(np.int64) + offset)
        buckets.append(chunk.bucket.astype(np.int64))
        offset += len(chunk.tokens)
    doc, bucket = (np.concatenate(parts) if parts else np.empty(0, np.int64) for parts in (docs, buckets))
    counts = sparse.coo_matrix(
        (np.ones(len(doc), dtype=np.int64), (doc, bucket)), shape=(offset, features.num_buckets)
    )
    return counts.tocsr()  # sums the duplicate (doc, bucket) entries


def corpus_counts(
    text_batches: Iterable[Texts], features: NgramFeatures, max_ngrams: int | None = None
) -> np.ndarray:
    """Bucket counts (num_buckets,) int64 summed over the texts of all batches, in order.

    With max_ngrams, counting stops after the first text at which the running total of n-grams exceeds
    it, that text included, and no later batch is read: the reference's stopping rule with one shard
    (`num_tokens_to_fit`, which counts n-grams, not tokens; see AUTO_NGRAMS_PER_BUCKET).
    """
    counts = np.zeros(features.num_buckets, dtype=np.int64)
    total = 0
    for texts in text_batches:
        for chunk in iter_chunk_features(texts, features):
            if max_ngrams is not None:
                # A text of t tokens has t unigrams and t - 1 bigrams.
                per_text = chunk.tokens + (np.maximum(chunk.tokens - 1, 0) if features.ngrams == 2 else 0)
                running = total + np.cumsum(per_text)
                over = np.flatnonzero(running > max_ngrams)
                if len(over):
                    counts += np.bincount(chunk.bucket[chunk.doc <= over[0]], minlength=features.num_buckets)
                    return counts
            counts += np.bincount(chunk.bucket, minlength=features.num_buckets)
            total += len(chunk.bucket)
    return counts


def log_importance_ratio(target_counts: np.ndarray, raw_counts: np.ndarray) -> np.ndarray:
    """log(p_target + 1e-8) - log(p_raw + 1e-8) per bucket, each p a count divided by its total.

    target_counts may be (num_buckets,) or (domains, num_buckets), one row per target (the reference's
    separate_targets); the result has its shape.
    """
    target_counts, raw_counts = np.asarray(target_counts), np.asarray(raw_counts)
    if target_counts.shape[-1] != raw_counts.shape[-1] or raw_counts.ndim != 1:
        raise ValueError(
            f"bucket counts do not line up: target {target_counts.shape}, raw {raw_counts.shape}; "
            "count both with the same NgramFeatures"
        )
    target_totals = target_counts.sum(axis=-1, keepdims=True)
    if raw_counts.sum() == 0 or (target_totals == 0).any():
        raise ValueError("a corpus has no n-grams (empty or blank texts): nothing to estimate from")
    target_probs, raw_probs = target_counts / target_totals, raw_counts / raw_counts.sum()
    return np.log(target_probs + LOG_SMOOTHING) - np.log(raw_probs + LOG_SMOOTHING)


def score_texts(texts: Texts, features: NgramFeatures, log_diff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text's log importance weight and token count.

    The weight is dot(log_diff, bucket counts of the text): (n,) float64 for a (num_buckets,) log_diff,
    (n, domains) for (domains, num_buckets). The token count is WordPunct tokens, (n,) int64; it equals
    the reference's example length `(counts.sum() + n(n-1)/2) // n`, which min_example_length compares.
    """
    log_diff = np.asarray(log_diff, dtype=np.float64)
    if log_diff.shape[-1] != features.num_buckets or log_diff.ndim > 2:
        raise ValueError(f"log_diff has shape {log_diff.shape}; expected (..., {features.num_buckets})")
    per_domain = np.atleast_2d(log_diff)
    weights, tokens = [], []
    for chunk in iter_chunk_features(texts, features):
        docs = len(chunk.tokens)
        weights.append(
            np.stack(
                [
                    np.bincount(chunk.doc, weights=domain[chunk.bucket], minlength=docs)
                    for domain in per_domain
                ],
                axis=1,
            )
        )
        tokens.append(chunk.tokens)
    log_weights = np.concatenate(weights) if weights else np.empty((0, len(per_domain)))
    token_counts = np.concatenate(tokens) if tokens else np.empty(0, np.int64)
    return (log_weights[:, 0] if log_diff.ndim == 1 else log_weights), token_counts


def per_domain_quota(k: int, proportions: Sequence[float]) -> list[int]:
    """How many of k rows each target domain gets: int(k * p) of the normalized proportions, the
    remainder to the last domain (the reference's rounding, so the quotas sum to k)."""
    shares = np.asarray(proportions, dtype=np.float64)
    if shares.ndim != 1 or len(shares) == 0 or (shares < 0).any() or shares.sum() <= 0:
        raise ValueError(f"proportions must be non-negative with a positive sum, got {list(proportions)}")
    shares = shares / np.sum(shares)
    quotas = [int(k * share) for share in shares]
    quotas[-1] += k - sum(quotas)
    return quotas


def gumbel_top_k(
    log_weights: np.ndarray, eligible: np.ndarray, quotas: Sequence[int], seed: int
) -> np.ndarray:
    """The domain each row is chosen for (int64, -1 when not chosen): Gumbel top-k sampling without
    replacement, domain by domain in order, a row chosen for one domain out of reach for the later ones.

    Draws and ties follow the reference's resample after np.random.seed(seed), so the same inputs give
    the same rows. log_weights is (n,) for one domain or (n, domains); only `eligible` rows are chosen.
    """
    log_weights = np.asarray(log_weights, dtype=np.float64)
    if log_weights.ndim == 1:
        log_weights = log_weights[:, np.newaxis]
    available = np.array(eligible, dtype=bool, copy=True)
    if len(available) != len(log_weights) or len(quotas) != log_weights.shape[1]:
        raise ValueError(
            f"{len(log_weights)} rows x {log_weights.shape[1]} domains of weights, {len(available)} "
            f"eligibility flags and {len(quotas)} quotas: give one flag per row and one quota per domain"
        )
    random = np.random.RandomState(seed)
    chosen = np.full(len(log_weights), -1, dtype=np.int64)
    for domain, quota in enumerate(quotas):
        if quota == 0:
            continue
        candidates = np.flatnonzero(available)
        if quota > len(candidates):
            raise ValueError(
                f"domain {domain} asks for {quota} rows but only {len(candidates)} eligible rows are left; "
                "ask for fewer rows or lower the minimum example length"
            )
        noisy = log_weights[candidates, domain] + random.gumbel(size=len(candidates))
        # argpartition needs kth < n; a quota of every candidate takes them all.
        picked = (
            candidates if quota == len(candidates) else candidates[np.argpartition(-noisy, quota)[:quota]]
        )
        chosen[picked] = domain
        available[picked] = False
    return chosen
