"""The quality half of the near-dedup benchmark: our clusters against the reference's duplicate pairs
and against the planted ground truth, and pair recall by Jaccard similarity beside the LSH formula."""

from itertools import pairwise
from pathlib import Path

import numpy as np

from benchmarks.measure import verdict
from benchmarks.near_dedup_data import NUM_PERM, SHINGLE_SIZE, THRESHOLD, jaccard

MIN_PAIR_RECALL = 0.95
JACCARD_BINS = [0.0, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0001]


def layouts() -> tuple[tuple[int, int], tuple[int, int]]:
    """(ours, datasketch's) LSH layout; imported here so the reference's process never loads polars."""
    from instruct_assets.curation.minhash import MinHashSettings, optimal_layout

    ours = MinHashSettings(shingle_size=SHINGLE_SIZE, num_perm=NUM_PERM, threshold=THRESHOLD).layout()
    return ours, optimal_layout(THRESHOLD, NUM_PERM)  # datasketch weighs both errors 0.5


def _read_texts(corpus: Path):
    import pyarrow.parquet as pq

    return pq.read_table(corpus, columns=["text"]).column("text")


def _precision_recall(dropped: np.ndarray, truth: np.ndarray) -> str:
    hits = int((dropped & truth).sum())
    precision = hits / max(int(dropped.sum()), 1)
    recall = hits / max(int(truth.sum()), 1)
    return f"dropped {int(dropped.sum()):>7,}  precision {precision:.4f}  recall {recall:.4f}"


def report_quality(corpus: Path, out_dir: Path) -> None:
    import polars as pl

    truth_frame = pl.read_parquet(corpus, columns=["role", "source", "jaccard_ours", "jaccard_reference"])
    n = truth_frame.height
    rows = np.arange(n)
    role = truth_frame["role"].to_numpy()
    source = truth_frame["source"].to_numpy()
    duplicate_of = np.load(out_dir / "ours_duplicate_of.npy")
    ours_cluster = np.where(duplicate_of >= 0, duplicate_of, rows)
    pairs = np.load(out_dir / "reference_pairs.npy")
    roots = np.load(out_dir / "reference_roots.npy")

    together = ours_cluster[pairs[:, 0]] == ours_cluster[pairs[:, 1]]
    recall = together.mean() if len(pairs) else 1.0
    ours_dropped = duplicate_of >= 0
    agree = roots[rows[ours_dropped]] == roots[ours_cluster[ours_dropped]]
    print(
        f"pair recall: {together.sum():,} of the reference's {len(pairs):,} duplicate pairs are in one "
        f"of our clusters = {recall:.4f} (goal >= {MIN_PAIR_RECALL}) {verdict(recall >= MIN_PAIR_RECALL)}"
    )
    print(f"converse: {agree.mean():.4f} of the rows we drop are in their survivor's reference cluster")

    print("\nagainst the planted ground truth (should drop: an exact copy, or an edited copy with Jaccard")
    print(f">= {THRESHOLD} by the side's own tokenization; a planted copy comes after its source):")
    reference_candidate_dropped = np.zeros(n, dtype=bool)
    reference_candidate_dropped[pairs[:, 0]] = True
    for name, dropped, column in (
        ("ours", ours_dropped, "jaccard_ours"),
        ("reference (union-find)", roots != rows, "jaccard_reference"),
        ("reference (has earlier candidate)", reference_candidate_dropped, "jaccard_reference"),
    ):
        similarity = truth_frame[column].to_numpy()
        truth = (role == "exact") | ((role == "edited") & (similarity >= THRESHOLD))
        print(f"  {name:<34} {_precision_recall(dropped, truth)}")
    print(
        f"  distinct rows dropped: ours {int((ours_dropped & (role == 'distinct')).sum()):,}, "
        f"reference {int(((roots != rows) & (role == 'distinct')).sum()):,}"
    )

    print("\nedited copies in their source's cluster, by the side's own Jaccard similarity to the source:")
    print(f"  {'Jaccard':<12} {'ours':>16} {'reference':>16}")
    edited = role == "edited"
    linked_ours = ours_cluster[rows[edited]] == ours_cluster[source[edited]]
    linked_reference = roots[rows[edited]] == roots[source[edited]]
    jaccards = [truth_frame[column].to_numpy()[edited] for column in ("jaccard_ours", "jaccard_reference")]
    for low, high in pairwise(JACCARD_BINS):
        cells = []
        for similarity, linked in zip(jaccards, (linked_ours, linked_reference), strict=True):
            in_bin = (similarity >= low) & (similarity < high)
            share = linked[in_bin].mean() if in_bin.any() else float("nan")
            cells.append(f"{share:>6.3f} of {int(in_bin.sum()):>6,}")
        print(f"  {low:.2f}-{min(high, 1.0):.2f}    {cells[0]:>16} {cells[1]:>16}")
    _report_pair_recall_by_jaccard(corpus, pairs, together)


def _report_pair_recall_by_jaccard(
    corpus: Path, pairs: np.ndarray, together: np.ndarray, sample: int = 3000
) -> None:
    """Pair recall by the exact Jaccard similarity of a sample of the reference's pairs, beside the chance
    1 - (1 - J^rows)^bands that an LSH with independent hash functions finds a pair (clusters add a
    little: a pair can also be joined through a third row)."""
    import pyarrow as pa

    from benchmarks.near_dedup_data import reference_shingles
    from instruct_assets.curation.minhash import shingle_hashes

    picked = np.random.default_rng(0).permutation(len(pairs))[:sample]
    texts = _read_texts(corpus)
    a, b = (texts.take(pa.array(pairs[picked, side])).to_pylist() for side in (0, 1))
    ours_a, ours_b = (
        shingle_hashes(pa.array(t, type=pa.large_string()), SHINGLE_SIZE).to_pylist() for t in (a, b)
    )
    jaccard_ours = np.array([jaccard(set(x), set(y)) for x, y in zip(ours_a, ours_b, strict=True)])
    jaccard_reference = np.array(
        [jaccard(reference_shingles(x), reference_shingles(y)) for x, y in zip(a, b, strict=True)]
    )
    ours_layout, reference_layout = layouts()

    def found(similarity: np.ndarray, layout: tuple[int, int]) -> np.ndarray:
        bands, rows = layout
        return 1.0 - (1.0 - similarity**rows) ** bands

    measured = together[picked]
    print(f"\npair recall by exact Jaccard similarity, {len(picked):,} sampled reference pairs.")
    print(
        "P(J) = 1 - (1 - J^rows)^bands: the chance that an LSH finds a pair of similarity J; P(J_ours) at our"
        f" layout {ours_layout[0]}x{ours_layout[1]}, P(J_ref) at datasketch's {reference_layout[0]}x"
        f"{reference_layout[1]} (what a second datasketch run with another seed would find):"
    )
    header = ("J_ref", "pairs", "ours found", "P(J_ours)", "mean J_ours", "P(J_ref)")
    print("  " + " ".join(f"{name:>11}" for name in header))
    for low, high in [*pairwise(JACCARD_BINS), (0.0, 1.0001)]:
        in_bin = (jaccard_reference >= low) & (jaccard_reference < high)
        if in_bin.any():
            cells = [
                f"{low:.2f}-{min(high, 1.0):.2f}" if high - low < 1 else "all",
                f"{int(in_bin.sum()):,}",
                f"{measured[in_bin].mean():.3f}",
                f"{found(jaccard_ours[in_bin], ours_layout).mean():.3f}",
                f"{jaccard_ours[in_bin].mean():.3f}",
                f"{found(jaccard_reference[in_bin], reference_layout).mean():.3f}",
            ]
            print("  " + " ".join(f"{cell:>11}" for cell in cells))
