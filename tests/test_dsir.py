"""DSIR functions against the reference they reimplement, data-selection's HashedNgramDSIR."""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from data_selection.hashed_ngram_dsir import HashedNgramDSIR, get_ngram_counts, hash_buckets

from instruct_assets.curation import dsir_buckets, dsir_features
from instruct_assets.curation.dsir import (
    MIN_EXAMPLE_TOKENS,
    NgramFeatures,
    bucket_counts,
    corpus_counts,
    gumbel_top_k,
    log_importance_ratio,
    per_domain_quota,
    score_texts,
)

# Cased, accented, combining-mark, CJK, emoji, digit-like and control-space text: where tokenizers and
# lowercasing disagree (İ lowers to two code points, final sigma, Devanagari vowel signs, \x1c is space).
MIXED_TEXTS = [
    "Hello, World!! It's 3.14 -- or is it?",
    "İstanbul'da ΣΊΣΥΦΟΣ ΟΔΟΣ; straße, ﬁne œuvre",
    "नमस्ते दुनिया। مرحبا بالعالم، café",
    "日本語のテキスト、中文文本。한국어 텍스트",
    "emoji 😀👍🏽 and ½ ² ③ x_y __init__ a--b...c",
    "tab\tsep\x1cfile\x1fsep\u00a0nbsp\u3000ideographic\u2028line",
    "",
    "   ",
    "!!!",
]


def _conversation_text(record: dict) -> str:
    return "\n\n".join(turn["value"] for turn in record["conversations"])


def _reference_rows(texts: list[str], features: NgramFeatures) -> np.ndarray:
    return np.stack([get_ngram_counts(t, n=features.ngrams, num_buckets=features.num_buckets) for t in texts])


@pytest.mark.parametrize("num_buckets", [10_000, 7, 2**31 - 1])
def test_bucket_hash_equals_reference_hash_buckets(num_buckets):
    for ngram in ["a", "İ", "i̇", "σς", "😀 👍🏽", "x_y", "नमस्ते", "-- ...", "日本語"]:
        assert dsir_buckets.hash_bucket(ngram, num_buckets) == hash_buckets(ngram, num_buckets)


@pytest.mark.parametrize("ngrams", [1, 2])
def test_bucket_counts_equal_reference_on_mixed_unicode(ngrams):
    features = NgramFeatures(num_buckets=10_000, ngrams=ngrams)
    ours = bucket_counts(pa.array(MIXED_TEXTS), features).toarray()
    np.testing.assert_array_equal(ours, _reference_rows(MIXED_TEXTS, features))


def test_bucket_counts_equal_reference_on_real_conversations(real_conversations):
    texts = [_conversation_text(r) for r in real_conversations]
    features = NgramFeatures()
    reference = _reference_rows(texts, features)
    np.testing.assert_array_equal(bucket_counts(texts, features).toarray(), reference)
    np.testing.assert_array_equal(corpus_counts([texts[:25], texts[25:]], features), reference.sum(axis=0))


def test_buckets_stay_exact_when_the_table_is_crowded_and_cleared(real_conversations, monkeypatch):
    """A 16-slot table forces long probe runs, racing claims, a regrown table and clears between chunks."""
    texts = [_conversation_text(r) for r in real_conversations[:10]]
    features = NgramFeatures(num_buckets=977)
    crowded = dsir_buckets.BucketTable(features.num_buckets, log2_slots=4)
    monkeypatch.setattr(dsir_features, "shared_table", lambda num_buckets: crowded)
    monkeypatch.setattr(dsir_features, "CHUNK_CODE_POINTS", 3_000)
    np.testing.assert_array_equal(bucket_counts(texts, features).toarray(), _reference_rows(texts, features))


def test_score_texts_by_hand():
    # With 4 buckets: a->3, b->1, c->2, d->0, "a b"->1, "b a"->0, "c d"->0 (sha256 % 4).
    features = NgramFeatures(num_buckets=4)
    log_diff = np.array([[0.5, -1.0, 2.0, 0.25], [1.0, 1.0, 1.0, 1.0]])
    texts = pa.array(["A b a", "c  D", "", None])
    weights, tokens = score_texts(texts, features, log_diff)
    # "a b a": 2 x a(0.25) + b(-1) + "a b"(-1) + "b a"(0.5); "c d": c(2) + d(0.5) + "c d"(0.5).
    np.testing.assert_allclose(weights, [[-1.0, 5.0], [3.0, 3.0], [0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(tokens, [3, 2, 0, 0])
    one_domain, _ = score_texts(texts, features, log_diff[0])
    np.testing.assert_allclose(one_domain, [-1.0, 3.0, 0.0, 0.0])


def test_log_importance_ratio_is_smoothed_log_of_probabilities():
    ratio = log_importance_ratio(np.array([3, 1, 0]), np.array([1, 1, 2]))
    expected = np.log(np.array([0.75, 0.25, 0.0]) + 1e-8) - np.log(np.array([0.25, 0.25, 0.5]) + 1e-8)
    np.testing.assert_allclose(ratio, expected)
    assert log_importance_ratio(np.array([[3, 1, 0], [0, 0, 5]]), np.array([1, 1, 2])).shape == (2, 3)
    with pytest.raises(ValueError, match="no n-grams"):
        log_importance_ratio(np.array([1, 0, 0]), np.zeros(3))


def test_corpus_counts_stop_after_the_text_that_passes_max_ngrams():
    features = NgramFeatures(num_buckets=50)
    texts = ["a b c", "d e", "f g h i", "j"]  # 5, 3, 7 and 1 n-grams: running totals 5, 8, 15, 16
    rows = _reference_rows(texts, features)
    for max_ngrams, texts_counted in [(4, 1), (5, 2), (7, 2), (8, 3), (15, 4), (None, 4)]:
        counts = corpus_counts([texts[:2], texts[2:]], features, max_ngrams=max_ngrams)
        np.testing.assert_array_equal(counts, rows[:texts_counted].sum(axis=0), err_msg=f"{max_ngrams=}")


def test_corpus_counts_reads_no_batch_after_the_stop():
    def batches():
        yield ["a b c d e f"]
        raise AssertionError("read a batch after the n-gram budget was spent")

    assert corpus_counts(batches(), NgramFeatures(), max_ngrams=3).sum() == 11


@pytest.mark.parametrize(
    ("k", "proportions", "quotas"),
    [
        (10, [1, 1, 1], [3, 3, 4]),
        (7, [0.5, 0.5], [3, 4]),
        (100, [0.7, 0.2, 0.1], [70, 20, 10]),
        (5, [3, 0, 1], [3, 0, 2]),
        (1, [1], [1]),
    ],
)
def test_per_domain_quota_rounds_down_and_gives_the_rest_to_the_last(k, proportions, quotas):
    assert per_domain_quota(k, proportions) == quotas


def test_gumbel_top_k_respects_eligibility_and_picks_each_row_once():
    rows = 2_000
    weights = np.random.default_rng(1).normal(size=(rows, 3))
    weights[:, 0] += 50 * (np.arange(rows) < 100)  # domain 0 prefers rows that domain 1 and 2 may also want
    eligible = np.arange(rows) % 3 != 0
    chosen = gumbel_top_k(weights, eligible, [120, 300, 80], seed=7)
    assert not (chosen[~eligible] >= 0).any()
    assert [int((chosen == d).sum()) for d in range(3)] == [120, 300, 80]
    np.testing.assert_array_equal(chosen, gumbel_top_k(weights, eligible, [120, 300, 80], seed=7))
    with pytest.raises(ValueError, match="domain 1 asks for 1000 rows but only 333 eligible"):
        gumbel_top_k(weights, eligible, [1_000, 1_000, 0], seed=7)


def _write_jsonl(path: Path, texts: list[str]) -> str:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("separate_targets", [False, True])
def test_selection_reproduces_reference_resample(tmp_path, real_conversations, separate_targets):
    raw = [_conversation_text(r) for r in real_conversations]
    raw += [" ".join(raw[i].split()[: 60 + 7 * i]) for i in range(40)]  # some under 100 tokens
    targets = [
        ["def add(a, b):\n    return a + b  # sum of two numbers"] * 3 + ["import numpy as np"],
        ["What is 12 + 30? Let x = 42. Then x / 2 = 21, so the answer is 21."] * 5,
    ]
    targets = targets if separate_targets else [targets[0] + targets[1]]
    k, seed = 30, 11
    reference = HashedNgramDSIR(
        [_write_jsonl(tmp_path / "raw.jsonl", raw)],
        [_write_jsonl(tmp_path / f"target{i}.jsonl", t) for i, t in enumerate(targets)],
        str(tmp_path / "cache"),
        num_proc=1,
        separate_targets=separate_targets,
    )
    reference.fit_importance_estimator(num_tokens_to_fit="auto")
    reference.compute_importance_weights()
    np.random.seed(seed)
    reference.resample(str(tmp_path / "out"), num_to_sample=k)
    selected = (tmp_path / "out" / "0.jsonl").read_text(encoding="utf-8").splitlines()
    reference_rows = {raw.index(json.loads(line)["text"]) for line in selected}

    features = NgramFeatures()
    raw_counts = corpus_counts([raw], features)
    target_counts = np.stack([corpus_counts([t], features) for t in targets])
    log_diff = log_importance_ratio(target_counts if separate_targets else target_counts[0], raw_counts)
    np.testing.assert_allclose(log_diff, reference.log_diff)
    weights, tokens = score_texts(pa.array(raw), features, log_diff)
    np.testing.assert_allclose(weights, np.load(tmp_path / "cache/log_importance_weights/0.npy"), rtol=1e-12)
    np.testing.assert_array_equal(tokens, np.load(tmp_path / "cache/perexample_metadata/0.npy"))
    quotas = per_domain_quota(k, target_counts.sum(axis=1)) if separate_targets else [k]
    chosen = gumbel_top_k(weights, tokens >= MIN_EXAMPLE_TOKENS, quotas, seed)
    assert set(np.flatnonzero(chosen >= 0).tolist()) == reference_rows
