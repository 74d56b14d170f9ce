"""The near-dedup benchmark corpus: real ShareGPT conversations, replicated, with planted near duplicates.

Every row has a known role, so both detectors can be scored against ground truth:

- `distinct`: a packaged conversation (its message contents joined by blank lines), or a variant of one in
  which ASCII letters and digits are rotated by the variant number (a Caesar shift: word lengths,
  punctuation and layout are kept, but no word and so no shingle is shared with another variant). The
  pool is first cleared of ShareGPT's own near duplicates (any row linked at a 0.4 LSH threshold), so
  distinct rows are far below 0.7 Jaccard similarity of each other.
- `exact`: a copy of an earlier distinct row.
- `edited`: a copy of an earlier distinct row with words substituted, inserted or deleted at random
  places; the number of edits aims at a Jaccard similarity drawn uniformly from 0.5-1.0, and the actual
  similarity to the source is stored for both tokenizations (`jaccard_ours`, `jaccard_reference`).

Copies sit at a random place after their source. Built once per size under benchmarks/.work/.
"""

import re
import sys
from itertools import tee
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from instruct_assets.curation.clusters import near_duplicate_of
from instruct_assets.curation.minhash import MinHashSettings, band_keys, shingle_hashes
from instruct_assets.demo.packaged_data import iter_sharegpt_conversations

EXACT_RATE, EDITED_RATE = 0.10, 0.10
EDITED_JACCARD_RANGE = (0.5, 1.0)
POOL_LINK_THRESHOLD = 0.4  # natural ShareGPT near duplicates linked at this threshold leave the pool
MIN_ASCII_WORD_SHARE = 0.9  # a variant rotates ASCII only, so only mostly-ASCII texts get variants
# The parameters both sides run with: text-dedup's defaults as the issue states them.
SHINGLE_SIZE, NUM_PERM, THRESHOLD = 5, 250, 0.7
SEED = 7
ROW_GROUP_ROWS = 5_000

# text-dedup's tokenization (ChenghaoMou/text-dedup, the datasketch-based minhash script): lower-case,
# split on every single non-[A-Za-z0-9_] character (runs of separators give empty tokens, as there), word
# n-grams joined by spaces; a text of fewer than `min_length` tokens has no n-grams.
NON_ALPHA = re.compile("[^A-Za-z_0-9]")


def text_dedup_ngrams(sequence: list[str], n: int, min_length: int = 5):
    if len(sequence) < min_length:
        return []
    if len(sequence) < n:
        return [tuple(sequence)]
    iterables = tee(iter(sequence), n)
    for i, sub_iterable in enumerate(iterables):
        for _ in range(i):
            next(sub_iterable, None)
    return zip(*iterables, strict=False)


def reference_shingles(text: str, n: int = SHINGLE_SIZE) -> set[str]:
    return {" ".join(gram) for gram in text_dedup_ngrams(NON_ALPHA.split(text.lower()), n)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _our_shingle_sets(texts: list[str]) -> list[set[int]]:
    shingles = shingle_hashes(pa.array(texts, type=pa.large_string()), SHINGLE_SIZE)
    return [set(row) for row in shingles.to_pylist()]


def _rotation(shift: int) -> dict[int, str]:
    table = {}
    for first, size in ((ord("a"), 26), (ord("A"), 26), (ord("0"), 10)):
        for k in range(size):
            table[first + k] = chr(first + (k + shift) % size)
    return table


def _pool() -> list[str]:
    """Packaged conversation texts with at least one word, none linked to an earlier one at 0.4."""
    texts = []
    for record in iter_sharegpt_conversations():
        text = "\n\n".join(turn["value"] for turn in record["conversations"]).strip()
        if re.search(r"\w", text):
            texts.append(text)
    settings = MinHashSettings(shingle_size=SHINGLE_SIZE, threshold=POOL_LINK_THRESHOLD)
    keys, has_shingles = band_keys(pa.array(texts, type=pa.large_string()), settings)
    linked = near_duplicate_of(keys, has_shingles) >= 0
    return [text for text, drop in zip(texts, linked, strict=True) if not drop]


def _edit(text: str, target_jaccard: float, vocabulary: list[str], rng: np.random.Generator) -> str:
    """Substitute, insert or delete random words; about S(1-J)/(n(1+J)) edits give Jaccard J on S
    shingles, since each edit changes up to n shingles on both sides."""
    parts = re.split(r"(\s+)", text)  # words at even positions, the whitespace between them at odd
    words = parts[0::2]
    edits = max(1, round(len(words) * (1 - target_jaccard) / (SHINGLE_SIZE * (1 + target_jaccard))))
    for position in rng.choice(len(words), size=min(edits, len(words)), replace=False):
        operation = rng.integers(3)
        if operation == 0:
            words[position] = vocabulary[rng.integers(len(vocabulary))]
        elif operation == 1:
            words[position] = f"{words[position]} {vocabulary[rng.integers(len(vocabulary))]}"
        else:
            words[position] = ""
    parts[0::2] = words
    return "".join(parts)


def build_corpus(path: Path, docs: int) -> Path:
    """Write the corpus once (text, role, source, jaccard_ours, jaccard_reference); a finished file at
    `path` is reused."""
    if path.exists():
        return path
    rng = np.random.default_rng(SEED)
    pool = _pool()
    ascii_pool = [t for t in pool if _ascii_word_share(t) >= MIN_ASCII_WORD_SHARE]
    n_exact, n_edited = round(docs * EXACT_RATE), round(docs * EDITED_RATE)
    n_distinct = docs - n_exact - n_edited
    distinct = pool[:n_distinct]
    variant = 1
    while len(distinct) < n_distinct:
        table = _rotation(variant)
        distinct += [t.translate(table) for t in ascii_pool[: n_distinct - len(distinct)]]
        variant += 1
    order = rng.permutation(n_distinct)
    distinct = [distinct[i] for i in order]
    vocabulary = sorted({w for t in pool[:2000] for w in re.findall(r"[A-Za-z]{3,}", t)})

    sources = rng.integers(0, n_distinct, size=n_exact + n_edited)
    targets = rng.uniform(*EDITED_JACCARD_RANGE, size=n_edited)
    copies = [distinct[s] for s in sources[:n_exact]]
    copies += [
        _edit(distinct[s], target, vocabulary, rng)
        for s, target in zip(sources[n_exact:], targets, strict=True)
    ]
    # Each copy goes after its source: sort keys are the distinct row's position, or a later one.
    copy_keys = sources + 0.5 + rng.uniform(0, n_distinct - sources)
    keys = np.concatenate([np.arange(n_distinct, dtype=float), copy_keys])
    placement = np.argsort(keys, kind="stable")
    position_of = np.empty(docs, dtype=np.int64)
    position_of[placement] = np.arange(docs)

    texts = distinct + copies
    role = np.array(["distinct"] * n_distinct + ["exact"] * n_exact + ["edited"] * n_edited)
    source = np.concatenate([np.full(n_distinct, -1), position_of[sources]])
    jaccard_ours, jaccard_reference = np.full(docs, np.nan), np.full(docs, np.nan)
    exact_rows = slice(n_distinct, n_distinct + n_exact)
    jaccard_ours[exact_rows] = jaccard_reference[exact_rows] = 1.0
    edited_sources = [distinct[s] for s in sources[n_exact:]]
    edited_texts = copies[n_exact:]
    ours_a, ours_b = _our_shingle_sets(edited_sources), _our_shingle_sets(edited_texts)
    jaccard_ours[n_distinct + n_exact :] = [jaccard(a, b) for a, b in zip(ours_a, ours_b, strict=True)]
    jaccard_reference[n_distinct + n_exact :] = [
        jaccard(reference_shingles(a), reference_shingles(b))
        for a, b in zip(edited_sources, edited_texts, strict=True)
    ]
    table = pa.table(
        {
            "text": pa.array(texts, type=pa.large_string()),
            "role": role,
            "source": source,
            "jaccard_ours": jaccard_ours,
            "jaccard_reference": jaccard_reference,
        }
    ).take(pa.array(placement))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    # Small row groups, so that a reader streaming batches holds one group, not the whole column.
    pq.write_table(table, partial, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    partial.rename(path)
    return path


def _ascii_word_share(text: str) -> float:
    words = re.findall(r"\w+", text)
    return sum(w.isascii() for w in words) / len(words) if words else 0.0


if __name__ == "__main__":
    build_corpus(Path(sys.argv[1]), int(sys.argv[2]))
