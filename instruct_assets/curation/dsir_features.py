"""Hashed n-gram features of DSIR, bucket for bucket the same as `data-selection`'s HashedNgramDSIR.

The reference lowercases a text, splits it with nltk's WordPunctTokenizer (`\\w+|[^\\w\\s]+`), and hashes
every unigram and space-joined bigram with `int(sha256(ngram).hexdigest(), 16) % num_buckets`. Here the
same features come from whole batches at once: each code point gets its class (word, punctuation, space)
from a table built with the reference's own regex engine, tokens are runs of one class, every n-gram gets
a 64-bit polynomial fingerprint, and only fingerprints not seen before are SHA-256 hashed, once each.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from threading import Lock

import numpy as np
import polars as pl
import pyarrow as pa
import regex

from instruct_assets.curation.dsir_buckets import shared_table

Texts = pa.Array | pa.ChunkedArray | pl.Series | Iterable[str | None]

SPACE, WORD, PUNCT = 0, 1, 2
CHUNK_CODE_POINTS = 2_000_000  # texts are featurized in runs of about this many code points
ARROW_SLICE_ROWS = 1_024  # texts leave Arrow as Python strings this many at a time
FINGERPRINT_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so its powers are invertible mod 2**64


@dataclass(frozen=True)
class NgramFeatures:
    """HashedNgramDSIR's featurizer settings: unigrams, plus bigrams when ngrams == 2."""

    num_buckets: int = 10_000
    ngrams: int = 2

    def __post_init__(self) -> None:
        if self.ngrams not in (1, 2):
            raise ValueError(f"ngrams must be 1 or 2, got {self.ngrams}")
        # dsir_buckets.fold_digests multiplies two residues in uint64.
        if not 0 < self.num_buckets < 2**32:
            raise ValueError(f"num_buckets must be in 1..2**32-1, got {self.num_buckets}")


@dataclass
class ChunkFeatures:
    """The n-gram occurrences of a run of texts: `bucket[i]` is occurrence i's bucket, `doc[i]` its text
    (0-based within the chunk); `tokens[d]` is text d's token count."""

    bucket: np.ndarray
    doc: np.ndarray
    tokens: np.ndarray


@cache
def code_point_classes() -> np.ndarray:
    """SPACE/WORD/PUNCT for every code point, as the reference tokenizer sees it.

    The nltk installed here (3.10) compiles tokenizer patterns with the `regex` module (nltk.redos), whose
    Unicode `\\w` takes in combining marks, so the table comes from `regex` with nltk's flags. Older nltk
    used stdlib `re`, whose `\\w` leaves marks out: such a reference splits Hindi or Thai words at them.
    """
    every_code_point = "".join(map(chr, range(0x110000)))
    flags = regex.UNICODE | regex.MULTILINE | regex.DOTALL
    classes = np.full(0x110000, PUNCT, dtype=np.uint8)
    for match in regex.finditer(r"\w+", every_code_point, flags):
        classes[match.start() : match.end()] = WORD
    for match in regex.finditer(r"\s+", every_code_point, flags):
        classes[match.start() : match.end()] = SPACE
    return classes


_powers_lock = Lock()
_powers: tuple[np.ndarray, np.ndarray] = (np.ones(1, np.uint64), np.ones(1, np.uint64))


def _fingerprint_powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """BASE**i and BASE**-i mod 2**64 for i < length (grown on demand, shared by all calls)."""
    global _powers
    with _powers_lock:
        if len(_powers[0]) < length:
            size = max(length, CHUNK_CODE_POINTS + 1)
            inverse = np.uint64(pow(int(FINGERPRINT_BASE), -1, 2**64))
            with np.errstate(over="ignore"):
                _powers = tuple(_power_series(base, size) for base in (FINGERPRINT_BASE, inverse))
        return _powers


def _power_series(base: np.uint64, size: int) -> np.ndarray:
    series = np.full(size, base, dtype=np.uint64)
    series[0] = 1
    return np.cumprod(series, out=series)  # uint64 wraps: powers mod 2**64


def _iter_texts(texts: Texts) -> Iterator[str | None]:
    if isinstance(texts, pl.Series):
        texts = texts.to_arrow()
    if isinstance(texts, pa.Array | pa.ChunkedArray):
        # Slice by slice, so a batch never sits in memory as Python strings all at once.
        for start in range(0, len(texts), ARROW_SLICE_ROWS):
            yield from texts.slice(start, ARROW_SLICE_ROWS).to_pylist()
    else:
        yield from texts


def iter_text_chunks(texts: Texts, chunk_code_points: int) -> Iterator[list[str]]:
    """The texts in order, lowercased (nulls as ""), in runs of about chunk_code_points code points."""
    chunk, size = [], 0
    for text in _iter_texts(texts):
        lowered = (text or "").lower()
        chunk.append(lowered)
        size += len(lowered) + 1
        if size >= chunk_code_points:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


@dataclass
class NgramKeys:
    """The n-gram occurrences of a run of texts before their buckets are known: `keys[i]` fingerprints
    occurrence i (never 0), `doc[i]` is its text; `ngram_texts(rows)` spells out keys[rows]."""

    keys: np.ndarray
    doc: np.ndarray
    tokens: np.ndarray
    ngram_texts: Callable[[np.ndarray], pa.Array]


def ngram_keys(lowered_texts: list[str], features: NgramFeatures) -> NgramKeys:
    """The n-gram occurrences of lowercased texts: unigrams in order, then bigrams (ngrams == 2) in order.

    A key is the polynomial hash mod 2**64 of the n-gram's code points, so two n-grams share one only by
    chance (odds about n**2 / 2**64 among n distinct n-grams remembered at once), and then share a bucket.
    """
    # A newline between texts is a space to the tokenizer, so no token spans two texts.
    joined = "\n".join(lowered_texts)
    # A trailing space: the one _utf8_ngrams puts between the two tokens of a bigram.
    code_points = np.frombuffer(f"{joined} ".encode("utf-32-le"), dtype=np.uint32)
    classes = code_point_classes()[code_points]
    starts, ends = _token_spans(classes)
    lengths = np.fromiter(map(len, lowered_texts), dtype=np.int64, count=len(lowered_texts))
    text_starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    tokens = np.diff(np.searchsorted(starts, text_starts), append=len(starts)).astype(np.int64)
    doc = np.repeat(np.arange(len(lowered_texts), dtype=np.int32), tokens)

    powers, inverse_powers = _fingerprint_powers(len(code_points) + 2)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(code_points) + 1, dtype=np.uint64)
        np.cumsum((code_points + np.uint64(1)) * powers[: len(code_points)], out=prefix[1:])
        unigram = (prefix[ends] - prefix[starts]) * inverse_powers[starts]
        keys, key_doc, bigram_left = unigram, doc, np.empty(0, np.intp)
        if features.ngrams == 2:
            # Bigram "a b" fingerprinted as that string: fp(a) + fp(" ") * B**len(a) + fp(b) * B**(len(a)+1).
            bigram_left = np.flatnonzero(doc[1:] == doc[:-1])
            length = ends[bigram_left] - starts[bigram_left]
            bigram = unigram[bigram_left] + np.uint64(ord(" ") + 1) * powers[length]
            bigram += unigram[bigram_left + 1] * powers[length + 1]
            keys = np.concatenate((unigram, bigram))
            key_doc = np.concatenate((doc, doc[bigram_left]))
    with np.errstate(over="ignore"):
        keys += np.uint64(1)  # 0 marks an empty slot; only a fingerprint of 2**64-1 wraps onto it

    def ngram_texts(rows: np.ndarray) -> pa.Array:
        is_bigram = rows >= len(unigram)
        left = rows.copy()
        left[is_bigram] = bigram_left[rows[is_bigram] - len(unigram)]
        return _utf8_ngrams(code_points, (starts, ends), left, is_bigram)

    return NgramKeys(keys=keys, doc=key_doc, tokens=tokens, ngram_texts=ngram_texts)


def _token_spans(classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each maximal run of one non-space class: a WordPunct token."""
    padded = np.zeros(len(classes) + 2, dtype=np.uint8)
    padded[1:-1] = classes
    change = np.flatnonzero(padded[1:] != padded[:-1])  # boundaries between code points change-1, change
    starts = change[padded[change + 1] != SPACE]
    ends = change[padded[change] != SPACE]
    return starts, ends


def _utf8_ngrams(
    code_points: np.ndarray, spans: tuple[np.ndarray, np.ndarray], left: np.ndarray, is_bigram: np.ndarray
) -> pa.Array:
    """The UTF-8 text of each n-gram: token `left`, and for a bigram a space and token `left + 1`."""
    starts, ends = spans
    space = len(code_points) - 1  # code_points ends with a " " for this
    right = np.minimum(left + 1, len(starts) - 1)
    # Three pieces per n-gram, gathered in one pass: left token, space, right token (empty for unigrams).
    piece_start = np.stack((starts[left], np.full(len(left), space), starts[right]), axis=1).ravel()
    piece_length = np.stack(
        (ends[left] - starts[left], is_bigram, (ends[right] - starts[right]) * is_bigram), axis=1
    ).ravel()
    out_start = np.cumsum(piece_length) - piece_length
    gathered = code_points[np.repeat(piece_start - out_start, piece_length) + np.arange(piece_length.sum())]
    utf8 = gathered.tobytes().decode("utf-32-le").encode("utf-8")
    widths = 1 + (gathered >= 0x80).view(np.uint8) + (gathered >= 0x800) + (gathered >= 0x10000)
    char_ends = np.cumsum(piece_length.reshape(-1, 3).sum(axis=1))
    offsets = np.zeros(len(left) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(widths, dtype=np.int64)[char_ends - 1] if len(gathered) else 0
    return pa.LargeStringArray.from_buffers(len(left), pa.py_buffer(offsets), pa.py_buffer(utf8))


def iter_chunk_features(texts: Texts, features: NgramFeatures) -> Iterator[ChunkFeatures]:
    """The n-gram buckets of texts, run by run in order (doc indices relative to each run). Buckets equal
    the reference's unless two n-grams share a key (see ngram_keys)."""
    # One thread: a second one fingerprinting ahead gained ~10% but grew RSS by ~400 MB through glibc's
    # per-thread malloc arenas (measured on 300k rows).
    table = shared_table(features.num_buckets)
    for lowered in iter_text_chunks(texts, CHUNK_CODE_POINTS):
        chunk = ngram_keys(lowered, features)
        with table.lock:
            bucket = table.buckets_of(chunk.keys, chunk.ngram_texts)
        yield ChunkFeatures(bucket=bucket, doc=chunk.doc, tokens=chunk.tokens)
