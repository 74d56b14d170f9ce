"""TF-IDF of response word n-grams, IterIT's diversity features (paper eq. 5), as a CSR matrix.

Row i of `tfidf_features(responses)` holds TF-IDF(g, Y_i) = f_g / (n-grams in Y_i) x log(N' / N_g) for
every word 1..3-gram g of response Y_i, where N' is the number of responses given (the candidate set) and
N_g how many of them contain g. An n-gram in every response weighs 0 and is not stored; an empty response
is an empty row.

- **Words** are the maximal runs of `\\w` in the lower-cased response, `\\w` as the `regex` module defines
  it (Unicode letters, marks, digits, connectors: `regex.findall(r"\\w+", text.lower())`). Whole batches
  are tokenized at once with numpy from the per-code-point class table DSIR builds with `regex`.
- **N-grams** are 1..3 consecutive words of one response; TF divides by the count of all three orders.
- **Columns are hashed n-grams, not a vocabulary**: each word gets a 64-bit polynomial fingerprint of its
  code points, each n-gram a mixed 64-bit hash of its words and its order. The top (64 - b) bits of that
  hash, b the bits of a row index, are packed with the row into one uint64, so a single numpy sort of all
  occurrences yields each response's n-gram counts, each n-gram's document count and a column order,
  with no string vocabulary and no hash table. Random access was the cost to avoid: on the 2-core VM,
  mapping 60M random keys to a 15M-entry vocabulary took 187 s with np.searchsorted and 24 s with a
  polars join, while np.sort of 60M uint64 takes about a second. Two distinct n-grams share a column
  only when their hashes agree in those top bits: about d**2 / 2**(65 - b) such pairs among d distinct
  n-grams (0.2 for the 7.6M n-grams of 100k ShareGPT responses, b = 17); they are then counted as one,
  a far lower rate than hashed features (sklearn's HashingVectorizer) accept.

Columns are ordered by hash, rows hold sorted column indices, so the matrix, and every sum taken along
its rows, is the same run after run.
"""

from collections.abc import Sequence
from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa
from scipy import sparse

from instruct_assets.curation.dsir_features import WORD, code_point_classes, iter_text_chunks

MAX_ORDER = 3
CHUNK_CODE_POINTS = 2_000_000  # responses are tokenized in runs of about this many code points
FINGERPRINT_BASE = 0x9E3779B97F4A7C15  # odd, so invertible mod 2**64
# Multiplier of the word at each position of an n-gram, and the constant that tells the orders apart.
_POSITION_MIXERS = np.array([0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93], dtype=np.uint64)
_ORDER_TAG = 0xFF51AFD7ED558CCD

Responses = Sequence[str | None] | pl.Series | pa.Array | pa.ChunkedArray


def tfidf_features(responses: Responses, max_order: int = MAX_ORDER) -> sparse.csr_matrix:
    """(len(responses), n-gram columns) float64 CSR matrix of TF-IDF over word 1..max_order-grams.

    None counts as an empty response. See the module docstring for tokens, hashing and collisions.
    """
    if not 1 <= max_order <= len(_POSITION_MIXERS):
        raise ValueError(f"max_order must be 1..{len(_POSITION_MIXERS)}, got {max_order}")
    n_rows = len(responses)
    row_bits = max(int(n_rows - 1).bit_length(), 1)
    packed_chunks, totals_chunks, first_row = [], [], 0
    for lowered in iter_text_chunks(responses, CHUNK_CODE_POINTS):
        packed, totals = _packed_ngrams(lowered, first_row, row_bits, max_order)
        packed_chunks.append(packed)
        totals_chunks.append(totals)
        first_row += len(lowered)
    if first_row != n_rows:
        raise ValueError(f"read {first_row} responses, but len(responses) is {n_rows}")
    totals = np.concatenate(totals_chunks) if totals_chunks else np.zeros(0, np.int64)
    return _tfidf_matrix(packed_chunks, totals, row_bits)


@cache
def _word_code_points() -> np.ndarray:
    """True for each code point that `regex`'s Unicode `\\w` matches (the WORD class of DSIR's table)."""
    return code_point_classes() == WORD


def _packed_ngrams(
    lowered: list[str], first_row: int, row_bits: int, max_order: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every n-gram occurrence of a run of lower-cased responses as (hash top bits | row), and each
    response's n-gram count over all orders."""
    # A newline between responses is not a word character, so no word spans two responses.
    joined = "\n".join(lowered)
    code_points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    is_word = _word_code_points()[code_points]
    edges = np.flatnonzero(np.diff(is_word, prepend=False, append=False))
    starts, ends = edges[::2], edges[1::2]
    text_starts = np.cumsum([0, *(len(text) + 1 for text in lowered[:-1])], dtype=np.int64)
    word_row = np.searchsorted(text_starts, starts, side="right") - 1
    words_per_row = np.bincount(word_row, minlength=len(lowered))
    word_hashes = _word_fingerprints(code_points, starts, ends)
    row_mask = np.uint64((1 << row_bits) - 1)
    packed, totals = [], np.zeros(len(lowered), dtype=np.int64)
    for order in range(1, max_order + 1):
        totals += np.maximum(words_per_row - order + 1, 0)
        windows = len(word_hashes) - order + 1
        if windows <= 0:
            continue
        # A window is one response's n-gram when its first and last words are in the same response.
        inside = word_row[:windows] == word_row[order - 1 :]
        ngram = word_hashes[:windows] * _POSITION_MIXERS[0]
        for position in range(1, order):
            ngram += word_hashes[position : position + windows] * _POSITION_MIXERS[position]
        ngram += np.uint64((_ORDER_TAG * order) % 2**64)
        ngram = _mix(ngram[inside])
        rows = (word_row[:windows][inside] + first_row).view(np.uint64)
        packed.append((ngram & ~row_mask) | rows)
    return (np.concatenate(packed) if packed else np.zeros(0, np.uint64)), totals


def _word_fingerprints(code_points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mixed polynomial hash mod 2**64 of each word's code points: equal words, equal hashes."""
    powers, inverse = _powers(1 << len(code_points).bit_length())
    prefix = np.zeros(len(code_points) + 1, dtype=np.uint64)
    np.cumsum((code_points + np.uint64(1)) * powers[: len(code_points)], out=prefix[1:])
    return _mix((prefix[ends] - prefix[starts]) * inverse[starts])


@cache
def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """BASE**i and BASE**-i mod 2**64 for i < size (sizes are powers of two, so few are ever built)."""
    series = []
    for base in (FINGERPRINT_BASE, pow(FINGERPRINT_BASE, -1, 2**64)):
        powers = np.full(size, base, dtype=np.uint64)
        powers[0] = 1
        series.append(np.cumprod(powers, out=powers))  # wraps: powers mod 2**64
    return series[0], series[1]


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: every output bit depends on every input bit, so top bits are as good as
    any (the polynomial and linear combinations alone leave low input bits only in low output bits)."""
    values ^= values >> np.uint64(30)
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
    return values


def _tfidf_matrix(packed_chunks: list[np.ndarray], totals: np.ndarray, row_bits: int) -> sparse.csr_matrix:
    """The matrix from all packed occurrences: sorted, they are grouped by n-gram, then by row.

    Takes the chunks out of `packed_chunks` so that each big array is freed here as soon as it is used:
    the peak is the sorted occurrences plus their run starts and pairs (~25 bytes an occurrence).
    """
    n_rows = len(totals)
    packed = _concatenate_emptying(packed_chunks)
    packed.sort()
    pair_starts = _run_starts(packed)  # one run per (n-gram, row)
    pairs = packed[pair_starts]
    occurrences = len(packed)
    del packed
    counts = _run_lengths(pair_starts, occurrences, np.float64)
    del pair_starts
    rows = (pairs & np.uint64((1 << row_bits) - 1)).astype(np.int32 if n_rows < 2**31 else np.int64)
    pairs >>= np.uint64(row_bits)  # now the n-gram's hash bits alone
    column_starts = _run_starts(pairs)
    del pairs
    rows_with_ngram = _run_lengths(column_starts, len(rows), np.int64)  # N_g
    idf = np.log(n_rows / rows_with_ngram)
    counts /= totals[rows]  # term frequency
    counts *= np.repeat(idf, rows_with_ngram)
    indptr = np.append(column_starts, len(rows))
    by_column = sparse.csc_matrix((counts, rows, indptr), shape=(n_rows, len(column_starts)))
    del counts, rows
    features = by_column.tocsr()  # rows come out with ascending column indices
    features.eliminate_zeros()
    features.sort_indices()
    return features


def _concatenate_emptying(chunks: list[np.ndarray]) -> np.ndarray:
    """All chunks in one array, each chunk dropped from the list as soon as it is copied."""
    joined = np.empty(sum(len(chunk) for chunk in chunks), dtype=np.uint64)
    position = 0
    chunks.reverse()
    while chunks:
        chunk = chunks.pop()
        joined[position : position + len(chunk)] = chunk
        position += len(chunk)
    return joined


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Positions where a run of equal values starts in a sorted array."""
    is_start = np.empty(len(values), dtype=bool)
    is_start[:1] = True
    np.not_equal(values[1:], values[:-1], out=is_start[1:])
    return np.flatnonzero(is_start)


def _run_lengths(starts: np.ndarray, total: int, dtype: type) -> np.ndarray:
    lengths = np.empty(len(starts), dtype=dtype)
    np.subtract(starts[1:], starts[:-1], out=lengths[:-1], casting="unsafe")
    lengths[-1:] = total - starts[-1:]
    return lengths
