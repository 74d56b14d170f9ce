"""MinHash-LSH band keys for near-duplicate detection, computed a batch at a time.

A text's shingles are its word n-grams (words: runs of Unicode letters, marks, digits and `_` in the
lower-cased text; a text with fewer words than the shingle size is one shingle; a text with no words has
none).
Signatures come from rensa's `RMinHash` (Rust, one call per batch); each band of `rows` signature values
is folded into one 64-bit key. Two texts whose keys agree in any band are LSH candidates, which at the
configured layout happens with probability 1 - (1 - J^rows)^bands for Jaccard similarity J.
"""

from dataclasses import dataclass
from functools import cache
from importlib.metadata import version

import numpy as np
import polars as pl
import pyarrow as pa

# Marks included, so Devanagari or decomposed accents do not split a word.
WORD_PATTERN = r"[\p{L}\p{M}\p{N}_]+"
# Odd 64-bit multipliers: a shingle's hash is a wrapping linear combination of its word hashes, and a
# band's key one of its signature values. Fixed, so keys written by one run can be joined by the next.
_MIXERS = np.array(
    [
        0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9,
    ],
    dtype=np.uint64,
)  # fmt: skip
# Keys depend on polars' word hash and rensa's permutations, neither promised stable across versions: the
# scheme is stored with every index so keys from another scheme are never compared with these.
SIGNATURE_SCHEME = f"words-v2-polars{pl.__version__}-rensa{version('rensa')}-rminhash"


@dataclass(frozen=True)
class MinHashSettings:
    """Shingling, signature and LSH layout; `bands` x `rows` must not exceed `num_perm`."""

    shingle_size: int = 5
    num_perm: int = 250
    threshold: float = 0.7
    bands: int | None = None  # with `rows`: an explicit layout; otherwise the optimum for `threshold`
    rows: int | None = None
    seed: int = 42
    # How much more a missed duplicate costs than a pair under the threshold dropped, when the layout is
    # chosen: datasketch weighs them 0.5/0.5 (25 x 10 for 0.7 / 250 permutations, which finds a pair at
    # exactly 0.7 half the time). A training pool is better served erring toward dropping: 0.8 picks
    # 30 x 8, finding 80 % of pairs at 0.7 and 99.9 % at 0.8, at the cost of some pairs at 0.5-0.7.
    false_negative_weight: float = 0.8

    def __post_init__(self) -> None:
        if not 1 <= self.shingle_size <= len(_MIXERS):
            raise ValueError(f"shingle_size must be 1..{len(_MIXERS)}, got {self.shingle_size}")
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both bands and rows, or neither (then they follow from threshold)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if not 0.0 <= self.false_negative_weight <= 1.0:
            raise ValueError(f"false_negative_weight must be in [0, 1], got {self.false_negative_weight}")

    def layout(self) -> tuple[int, int]:
        """(bands, rows) of the LSH index."""
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        weight = self.false_negative_weight
        return optimal_layout(self.threshold, self.num_perm, 1.0 - weight, weight)


@cache
def optimal_layout(
    threshold: float, num_perm: int, false_positive_weight: float = 0.5, false_negative_weight: float = 0.5
) -> tuple[int, int]:
    """The (bands, rows) minimizing weighted false-positive and false-negative probability mass around
    `threshold`: the criterion datasketch's MinHashLSH uses, so with its weights both pick one layout."""
    grid = np.linspace(0.0, 1.0, 1001)
    best, best_error = (1, 1), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            candidate = 1.0 - (1.0 - grid**rows) ** bands
            below, above = grid <= threshold, grid >= threshold
            false_positive = np.trapezoid(candidate[below], grid[below])
            false_negative = np.trapezoid(1.0 - candidate[above], grid[above])
            error = false_positive_weight * false_positive + false_negative_weight * false_negative
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


def shingle_hashes(texts: pa.Array | pa.ChunkedArray | pl.Series, shingle_size: int) -> pa.LargeListArray:
    """Each text's shingle hashes (uint64), in text order; an empty list for a text with no words."""
    series = texts if isinstance(texts, pl.Series) else pl.Series(texts)
    word_hashes = (
        series.fill_null("").str.to_lowercase().str.extract_all(WORD_PATTERN).list.eval(pl.element().hash(0))
    ).to_arrow()
    if isinstance(word_hashes, pa.ChunkedArray):
        word_hashes = word_hashes.combine_chunks()
    words = word_hashes.values.to_numpy(zero_copy_only=False)
    offsets = np.asarray(word_hashes.offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    n = shingle_size
    # Windows of n consecutive words: a wrapping linear combination over the flat word array; only
    # windows that start and end inside one text are kept.
    windows = max(len(words) - n + 1, 0)
    combined = np.zeros(windows, dtype=np.uint64)
    for j in range(n):
        combined += words[j : windows + j] * _MIXERS[j]
    per_text = np.maximum(lengths - n + 1, 0)
    # Window j of text t starts at word offsets[t] + j: one repeat of a per-text shift, no gathers.
    first_window = np.cumsum(per_text) - per_text
    starts = np.arange(per_text.sum(), dtype=np.int64)
    starts += np.repeat(offsets[:-1] - first_window, per_text)
    shingles = combined[starts]
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if len(short):
        shingles, per_text = _with_short_texts(shingles, per_text, short, words, offsets, lengths)
    shingle_offsets = np.concatenate([[0], np.cumsum(per_text)]).astype(np.int64)
    return pa.LargeListArray.from_arrays(shingle_offsets, pa.array(shingles, type=pa.uint64()))


def _with_short_texts(shingles, per_text, short, words, offsets, lengths):
    """Give each text shorter than the shingle size one shingle of all its words."""
    short_hashes = np.zeros(len(short), dtype=np.uint64)
    for j in range(int(lengths[short].max())):
        present = lengths[short] > j
        index = np.where(present, offsets[short] + j, 0)
        short_hashes += np.where(present, words[index] * _MIXERS[j], np.uint64(0))
    counts = per_text.copy()
    counts[short] = 1
    ends = np.cumsum(per_text)
    # Insert each short text's shingle where its (empty) run of windows would be.
    merged = np.insert(shingles, ends[short], short_hashes)
    return merged, counts


def signatures(shingles: pa.LargeListArray, settings: MinHashSettings) -> np.ndarray:
    """(n_texts, num_perm) uint32 MinHash signatures; rows of texts with no shingles are meaningless
    (all max values) and must be excluded by the caller."""
    from rensa import RMinHash

    values = shingles.values.to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
    offsets = np.asarray(shingles.offsets, dtype=np.uint64)
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(values, offsets, settings.num_perm, settings.seed)
    if matrix.len() == 0:
        return np.zeros((0, settings.num_perm), dtype=np.uint32)
    return np.asarray(matrix.to_rows(), dtype=np.uint32)


def band_keys_of(signature_matrix: np.ndarray, settings: MinHashSettings) -> np.ndarray:
    """(n_texts, bands) uint64: each band's `rows` signature values folded into one key."""
    bands, rows = settings.layout()
    banded = signature_matrix[:, : bands * rows].reshape(len(signature_matrix), bands, rows)
    keys = np.zeros((len(signature_matrix), bands), dtype=np.uint64)
    for j in range(rows):
        keys = keys * _MIXERS[j % len(_MIXERS)] + banded[:, :, j].astype(np.uint64)
    return keys


def band_keys(texts: pa.Array | pa.ChunkedArray | pl.Series, settings: MinHashSettings):
    """(keys (n, bands) uint64, has_shingles (n,) bool) for a batch of texts."""
    shingles = shingle_hashes(texts, settings.shingle_size)
    has_shingles = np.diff(np.asarray(shingles.offsets)) > 0
    return band_keys_of(signatures(shingles, settings), settings), has_shingles
