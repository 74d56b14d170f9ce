"""The reference's n-gram bucket, `int(sha256(ngram).hexdigest(), 16) % num_buckets`, for many n-grams.

n-grams arrive as 64-bit fingerprints (see dsir_features). A fingerprint seen before takes its bucket from
an open-addressing table; only new ones are SHA-256 hashed, by DuckDB on every core, and remembered.
"""

import hashlib
import threading
from collections.abc import Callable
from functools import cache

import duckdb
import numpy as np
import pyarrow as pa

from instruct_assets.paths import read_sql

SLOT_MULTIPLIER = np.uint64(0xBF58476D1CE4E5B9)
TABLE_LOG2_SLOTS = 23  # 8M slots, 160 MB: remembers up to 4M n-grams before it is cleared
MAX_LOAD = 0.5


def hash_bucket(ngram: str, num_buckets: int) -> int:
    """The reference's bucket of one n-gram string (data_selection.hashed_ngram_dsir.hash_buckets)."""
    return int.from_bytes(hashlib.sha256(ngram.encode("utf-8")).digest(), "big") % num_buckets


def fold_digests(digests: bytes, num_buckets: int) -> np.ndarray:
    """Each 32-byte SHA-256 digest, read as a big-endian integer, mod num_buckets (exact for
    num_buckets < 2**32: every product below stays under 2**64)."""
    words = np.frombuffer(digests, dtype=">u8").reshape(-1, 4).astype(np.uint64)
    modulus = np.uint64(num_buckets)
    word_weight = np.uint64(2**64 % num_buckets)
    residue = np.zeros(len(words), dtype=np.uint64)
    for column in range(4):
        residue = (residue * word_weight + words[:, column] % modulus) % modulus
    return residue


class BucketTable:
    """Fingerprint -> bucket, remembered across calls until MAX_LOAD, then cleared. Not thread-safe:
    hold `lock` around buckets_of."""

    def __init__(self, num_buckets: int, log2_slots: int = TABLE_LOG2_SLOTS):
        self.num_buckets = num_buckets
        self.lock = threading.Lock()
        self._con = duckdb.connect()
        self._allocate(log2_slots)

    def _allocate(self, log2_slots: int) -> None:
        self.log2_slots = log2_slots
        self.keys = np.zeros(2**log2_slots, dtype=np.uint64)  # 0 = empty slot
        self.buckets = np.zeros(2**log2_slots, dtype=np.uint32)
        self.claimant = np.zeros(2**log2_slots, dtype=np.int64)  # scratch for _find_or_insert
        self.filled = 0

    def buckets_of(self, keys: np.ndarray, ngram_texts: Callable[[np.ndarray], pa.Array]) -> np.ndarray:
        """The bucket of each key (uint64, never 0); `ngram_texts(rows)` gives the n-gram strings of
        keys[rows], asked for the keys not in the table."""
        capacity = int(MAX_LOAD * len(self.keys))
        if len(keys) > capacity:
            self._allocate(int(np.ceil(np.log2(len(keys) / MAX_LOAD))))
        elif self.filled + len(keys) > capacity:
            self.keys.fill(0)
            self.filled = 0
        slots, new_slots, new_key_rows = self._find_or_insert(keys)
        if len(new_slots):
            self.buckets[new_slots] = self._sha256_buckets(ngram_texts(new_key_rows))
            self.filled += len(new_slots)
        return self.buckets[slots]

    def _sha256_buckets(self, ngrams: pa.Array) -> np.ndarray:
        self._con.register("dsir_ngrams", pa.table({"ngram": ngrams}))
        try:
            digests = self._con.sql(read_sql("curation/dsir_sha256.sql")).to_arrow_table().column(0)
        finally:
            self._con.unregister("dsir_ngrams")
        digests = digests.combine_chunks()
        offsets = np.frombuffer(digests.buffers()[1], dtype=np.int32)[digests.offset :][: len(digests) + 1]
        data = np.frombuffer(digests.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        if len(data) != 32 * len(digests):
            raise RuntimeError(f"DuckDB returned {len(data)} digest bytes for {len(digests)} n-grams")
        return fold_digests(data.tobytes(), self.num_buckets)

    def _find_or_insert(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The slot of each key (linear probing, vectorized over all keys per probe step), and the slots
        this call filled, each with one row of `keys` that holds its key."""
        mask = np.intp(len(self.keys) - 1)
        with np.errstate(over="ignore"):
            slot = ((keys * SLOT_MULTIPLIER) >> np.uint64(64 - self.log2_slots)).astype(np.intp)
        # Most keys sit in their home slot: only the rest (new keys, displaced keys) probe on.
        pending = np.flatnonzero(self.keys[slot] != keys)
        claimed_slots, claimed_rows = [], []
        while len(pending):
            pending_slots, pending_keys = slot[pending], keys[pending]
            held = self.keys[pending_slots]
            empty = held == 0
            if empty.any():
                # Racing writers of one empty slot: the last write wins, the rest probe on.
                self.keys[pending_slots[empty]] = pending_keys[empty]
                held = self.keys[pending_slots]
                claimed = empty & (held == pending_keys)
                claimed_slots.append(pending_slots[claimed])
                claimed_rows.append(pending[claimed])
            pending = pending[held != pending_keys]
            slot[pending] = (slot[pending] + 1) & mask
        if not claimed_slots:
            return slot, np.empty(0, np.intp), np.empty(0, np.intp)
        claimed_slots, claimed_rows = np.concatenate(claimed_slots), np.concatenate(claimed_rows)
        # Every row of a new key claimed its slot; keep the one row whose write to `claimant` stuck.
        self.claimant[claimed_slots] = claimed_rows
        sole = self.claimant[claimed_slots] == claimed_rows
        return slot, claimed_slots[sole], claimed_rows[sole]


@cache
def shared_table(num_buckets: int) -> BucketTable:
    """One table per bucket count for the process: later batches and passes reuse its buckets."""
    return BucketTable(num_buckets)
