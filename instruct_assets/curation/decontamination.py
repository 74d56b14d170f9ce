"""Benchmark decontamination: find pool samples that share a word n-gram with a held-out eval item.

Text is normalized the same way on both sides: lowercased (Unicode), split into words on every run of
characters that are not Unicode letters or digits. An n-gram is n consecutive words of one text.

How (and why not SQL): each word is mapped to its id in the eval vocabulary; a pool window that holds
a word the eval items never use cannot match, so only all-in-vocabulary windows are hashed, with a
64-bit polynomial rolling hash built from n vectorized gathers. Hash hits are confirmed word by word,
so a collision can never report a false overlap. Measured on 2 busy cores: in DuckDB SQL, hashing a
list slice per position took 75-90 s per 20k documents of 3 KB (a list is allocated per position, and a
fixed-arity `hash(w[i], ..., w[i+12])` would need n formatted into the SQL); this takes 6-7 s per 50k.
"""

import itertools
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

# RE2 syntax: `\w` is ASCII-only there, so letters and digits are named by Unicode class.
WORD_SEPARATORS = r"[^\p{L}\p{N}]+"
DEFAULT_N = 13
DEFAULT_CHUNK_ROWS = 4096
OVERLAPS_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("benchmark", pa.string()),
        ("item_id", pa.string()),
        ("ngram", pa.string()),
        ("shared_ngrams", pa.int64()),
        ("items_hit", pa.int64()),
    ]
)
_HIT_COLUMNS = ("row", "item", "gram", "position")
# Odd 64-bit multipliers for the rolling hash; the next is tried if two eval n-grams ever collide.
_MULTIPLIERS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)


def normalized_words(texts: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Every text's words (lowercased, split on non-letters/digits), flattened, and each word's text index.

    Null texts have no words. Words of one text are contiguous and in reading order.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    # One string type for both sides (a batch may arrive as string, large_string, string_view or all-null).
    texts = texts.cast(pa.large_string()).fill_null("")
    lists = pc.split_pattern_regex(pc.utf8_lower(texts), WORD_SEPARATORS)
    words, text_index = lists.flatten(), lists.value_parent_indices()
    # A leading separator, or an empty text, yields an empty string, which is not a word.
    non_empty = pc.greater(pc.binary_length(words), 0)
    return words.filter(non_empty), text_index.filter(non_empty).to_numpy(zero_copy_only=False)


def _rolling_keys(ids: np.ndarray, starts: np.ndarray, length: int, multiplier: int) -> np.ndarray:
    """The hash of ids[s : s + length] for every s in `starts` (uint64 arithmetic wraps on purpose)."""
    keys = np.zeros(len(starts), dtype=np.uint64)
    factor = np.uint64(multiplier)
    with np.errstate(over="ignore"):
        for offset in range(length):
            keys = keys * factor + ids[starts + offset].astype(np.uint64)
    return keys


@dataclass(frozen=True)
class _GramIndex:
    """The distinct eval n-grams of one length, sorted by hash key, and the items each occurs in."""

    length: int
    keys: np.ndarray  # uint64, strictly increasing
    grams: np.ndarray  # int64 word ids, one row per n-gram, aligned with keys
    item_offsets: np.ndarray  # items of n-gram g: items[item_offsets[g] : item_offsets[g + 1]]
    items: np.ndarray
    first_gram_id: int  # global id of row 0, so n-grams of all lengths share one numbering
    multiplier: int  # of the rolling hash that gave `keys`


class Decontaminator:
    """Eval n-grams indexed once; `overlaps(batch)` checks any number of pool batches against them.

    Holds no connection or file, so the `with` form is optional; it is offered so callers can scope it.
    """

    def __init__(
        self, eval_items: pa.Table, n: int = DEFAULT_N, chunk_rows: int = DEFAULT_CHUNK_ROWS
    ) -> None:
        if n < 1 or chunk_rows < 1:
            raise ValueError(f"n and chunk_rows must be positive (got n={n}, chunk_rows={chunk_rows})")
        _require_columns(eval_items, ("benchmark", "item_id", "text"), "eval_items")
        self.n, self.chunk_rows = n, chunk_rows
        # Sorted so a lower item index is the tie-break winner: smallest (benchmark, item_id).
        items = eval_items.select(["benchmark", "item_id", "text"]).sort_by(
            [("benchmark", "ascending"), ("item_id", "ascending")]
        )
        if items["benchmark"].null_count or items["item_id"].null_count:
            raise ValueError("eval_items has a null benchmark or item_id; every item needs both")
        self._benchmarks = items["benchmark"].to_pylist()
        self._item_ids = items["item_id"].to_pylist()
        keys = list(zip(self._benchmarks, self._item_ids, strict=True))
        if len(set(keys)) != len(keys):
            duplicate = next(k for i, k in enumerate(keys) if i and keys[i - 1] == k)
            raise ValueError(
                f"eval_items repeats (benchmark, item_id) {duplicate}; each item must appear once"
            )
        words, item_of = normalized_words(items["text"])
        self._vocabulary = pc.unique(words)
        ids = self._word_ids(words)
        self._vocabulary_words = np.array(self._vocabulary.to_pylist(), dtype=object)
        self._indexes, self._gram_texts = self._build_indexes(ids, item_of, len(keys))

    def __enter__(self) -> "Decontaminator":
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def _word_ids(self, words: pa.Array) -> np.ndarray:
        """1-based id of each word in the eval vocabulary; 0 for a word the eval items never use."""
        found = pc.index_in(words, value_set=self._vocabulary).fill_null(-1)
        return found.to_numpy(zero_copy_only=False).astype(np.int64) + 1

    def _build_indexes(
        self, ids: np.ndarray, item_of: np.ndarray, item_count: int
    ) -> tuple[list[_GramIndex], list[str]]:
        bounds = np.searchsorted(item_of, np.arange(item_count + 1))
        windows_by_length: dict[int, list[tuple[np.ndarray, int]]] = {}
        for item, (start, end) in enumerate(itertools.pairwise(bounds)):
            if end > start:
                # An item shorter than n counts as one n-gram of all its words.
                length = min(self.n, end - start)
                windows = np.lib.stride_tricks.sliding_window_view(ids[start:end], length)
                windows_by_length.setdefault(length, []).append((windows, item))
        indexes, gram_texts = [], []
        for length in sorted(windows_by_length):
            parts = windows_by_length[length]
            windows = np.concatenate([w for w, _ in parts])
            owners = np.concatenate([np.full(len(w), item) for w, item in parts])
            grams, gram_of_window = np.unique(windows, axis=0, return_inverse=True)
            keys, multiplier = _collision_free_keys(grams)
            order = np.argsort(keys)
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            pairs = np.unique(np.stack([rank[gram_of_window.ravel()], owners], axis=1), axis=0)
            item_offsets = np.searchsorted(pairs[:, 0], np.arange(len(grams) + 1))
            indexes.append(
                _GramIndex(
                    length, keys[order], grams[order], item_offsets, pairs[:, 1], len(gram_texts), multiplier
                )
            )
            gram_texts.extend(" ".join(self._vocabulary_words[row - 1]) for row in grams[order])
        return indexes, gram_texts

    def overlaps(self, pool: pa.Table) -> pa.Table:
        """One row per pool sample that shares at least one n-gram with an eval item (OVERLAPS_SCHEMA).

        For that sample: the eval item sharing the most distinct n-grams (ties: smallest benchmark, then
        item_id), `ngram` the first shared n-gram in the sample's reading order (words joined by single
        spaces), `shared_ngrams` the distinct n-grams it shares with that item, `items_hit` the number of
        eval items it shares any n-gram with. An eval item shorter than n words is one n-gram of all its
        words, matched as a whole. Rows follow pool order; `sample_id` must be unique in the batch.
        Works in chunks of `chunk_rows` rows, so memory is bounded by the chunk, not the batch.
        """
        _require_columns(pool, ("sample_id", "text"), "pool")
        if pool["sample_id"].null_count or pc.count_distinct(pool["sample_id"]).as_py() != pool.num_rows:
            raise ValueError(
                "pool sample_id must be non-null and unique within a batch; deduplicate it first"
            )
        found = [
            self._chunk_overlaps(pool.slice(start, self.chunk_rows))
            for start in range(0, len(pool), self.chunk_rows)
        ]
        return pa.concat_tables([OVERLAPS_SCHEMA.empty_table(), *found]).combine_chunks()

    def _chunk_overlaps(self, chunk: pa.Table) -> pa.Table:
        hits = self._hits(chunk["text"])
        if hits.is_empty():
            return OVERLAPS_SCHEMA.empty_table()
        per_item = hits.group_by("row", "item").agg(
            shared_ngrams=pl.col("gram").n_unique(), first_gram=pl.col("gram").sort_by("position").first()
        )
        best = (
            per_item.sort(["row", "shared_ngrams", "item"], descending=[False, True, False])
            .group_by("row", maintain_order=True)
            .agg(pl.all().first(), items_hit=pl.len())
        )
        rows, items = best["row"].to_list(), best["item"].to_list()
        sample_ids = chunk["sample_id"].to_pylist()
        columns = {
            "sample_id": [sample_ids[r] for r in rows],
            "benchmark": [self._benchmarks[i] for i in items],
            "item_id": [self._item_ids[i] for i in items],
            "ngram": [self._gram_texts[g] for g in best["first_gram"].to_list()],
            "shared_ngrams": best["shared_ngrams"].cast(pl.Int64).to_list(),
            "items_hit": best["items_hit"].cast(pl.Int64).to_list(),
        }
        return pa.table(columns, schema=OVERLAPS_SCHEMA)

    def _hits(self, texts: pa.ChunkedArray) -> pl.DataFrame:
        """One row per (pool row, eval item, global n-gram id, word position) of a confirmed shared n-gram."""
        words, row_of = normalized_words(texts)
        ids = self._word_ids(words)
        unknown_before = np.concatenate([[0], np.cumsum(ids == 0)])
        found: list[pl.DataFrame] = [pl.DataFrame(schema=dict.fromkeys(_HIT_COLUMNS, pl.Int64))]
        for index in self._indexes:
            length, count = index.length, len(ids) - index.length + 1
            if count <= 0:
                continue
            # A window can match only if all its words are eval words and it stays inside one text.
            inside = (unknown_before[length : length + count] == unknown_before[:count]) & (
                row_of[:count] == row_of[length - 1 : length - 1 + count]
            )
            starts = np.flatnonzero(inside)
            keys = _rolling_keys(ids, starts, length, index.multiplier)
            slot = np.minimum(np.searchsorted(index.keys, keys), len(index.keys) - 1)
            same_key = index.keys[slot] == keys
            starts, slot = starts[same_key], slot[same_key]
            exact = (ids[starts[:, None] + np.arange(length)] == index.grams[slot]).all(axis=1)
            starts, slot = starts[exact], slot[exact]
            owners_per_hit = np.diff(index.item_offsets)[slot]
            first_owner = np.repeat(index.item_offsets[slot], owners_per_hit)
            nth_owner = np.arange(len(first_owner)) - np.repeat(
                np.cumsum(owners_per_hit) - owners_per_hit, owners_per_hit
            )
            columns = (
                np.repeat(row_of[starts], owners_per_hit),
                index.items[first_owner + nth_owner],
                np.repeat(slot + index.first_gram_id, owners_per_hit),
                np.repeat(starts, owners_per_hit),
            )
            found.append(pl.DataFrame(dict(zip(_HIT_COLUMNS, columns, strict=True))).cast(pl.Int64))
        return pl.concat(found)


def find_benchmark_overlaps(pool: pa.Table, eval_items: pa.Table, n: int = DEFAULT_N) -> pa.Table:
    """Pool samples (sample_id, text) that share a word n-gram with an eval item (benchmark, item_id, text).

    One row per contaminated sample, schema OVERLAPS_SCHEMA; see `Decontaminator.overlaps` for what each
    column guarantees. An eval item shorter than n words contributes its whole word sequence as its one
    n-gram. To check many batches, build a `Decontaminator` once instead.
    """
    return Decontaminator(eval_items, n).overlaps(pool)


def _collision_free_keys(grams: np.ndarray) -> tuple[np.ndarray, int]:
    """Hash keys of distinct n-grams (one per row), all different, and the multiplier that made them so."""
    starts = np.arange(len(grams)) * grams.shape[1]
    for multiplier in _MULTIPLIERS:
        keys = _rolling_keys(grams.ravel(), starts, grams.shape[1], multiplier)
        if len(np.unique(keys)) == len(keys):
            return keys, multiplier
    raise RuntimeError("eval n-gram hashes collide under every multiplier; add one to _MULTIPLIERS")


def _require_columns(table: pa.Table, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(f"{name} lacks column(s) {', '.join(missing)}; it needs {', '.join(columns)}")
