"""Near-duplicate detection: our MinHash-LSH (rensa band keys + star edges + connected components) against
datasketch's MinHash and MinHashLSH used the way text-dedup uses them, with the same parameters (word
5-gram shingles, 250 permutations, threshold 0.7), on ShareGPT-sized documents with planted duplicates.

Usage: .venv/bin/python -m benchmarks.near_dedup [--docs N] [--repeat R]

Each side runs alone in a fresh process (`--stage ours|reference CORPUS OUT`, run by the parent) and
streams the corpus from Parquet 5k texts at a time (`--batch-texts`), as a pipeline would; the child
times that read and the work (not its imports) and reports its own peak RSS. Prints a table and
PASS/FAIL per goal, then the quality report (near_dedup_report.py): agreement with the reference, both
sides against the planted ground truth and pair recall by Jaccard similarity; always exits 0 (it is a
report, not a gate). The corpus is built once (near_dedup_data.py).
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from benchmarks.measure import PROJECT_ROOT, StageRun, fastest, print_result, run_module, verdict
from benchmarks.near_dedup_data import NUM_PERM, SHINGLE_SIZE, THRESHOLD
from benchmarks.near_dedup_report import layouts, report_quality

WORK_DIR = Path(__file__).resolve().parent / ".work"
DEFAULT_DOCS = 100_000  # 640 MB: the reference takes 3-4 minutes on the 2-core development VM
BATCH_TEXTS = 5_000  # what deduped_pool uses (instruct_assets/curation/dedup_rows.py)
SEED = 42


# Goals: at least 5x the reference's throughput, less memory, and >= 95% of its duplicate pairs found
# (near_dedup_report.MIN_PAIR_RECALL).
MIN_SPEED_RATIO = 5.0


def _text_batches(corpus: Path, batch_texts: int):
    """The corpus texts, `batch_texts` at a time, as a pipeline would stream them."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(corpus).iter_batches(batch_size=batch_texts, columns=["text"]):
        yield batch.column("text")


def ours(corpus: Path, out_dir: Path, batch_texts: int) -> dict:
    """Our full path: band keys a batch at a time, then star edges and connected components."""
    from instruct_assets.curation.clusters import near_duplicate_of
    from instruct_assets.curation.minhash import MinHashSettings, band_keys

    settings = MinHashSettings(shingle_size=SHINGLE_SIZE, num_perm=NUM_PERM, threshold=THRESHOLD)
    start = time.perf_counter()
    keys, eligible = [], []
    for texts in _text_batches(corpus, batch_texts):
        batch_keys, has_shingles = band_keys(texts, settings)
        keys.append(batch_keys)
        eligible.append(has_shingles)
    duplicate_of = near_duplicate_of(np.concatenate(keys), np.concatenate(eligible))
    seconds = time.perf_counter() - start
    np.save(out_dir / "ours_duplicate_of.npy", duplicate_of)
    return {"seconds": seconds, "rows": len(duplicate_of), "dropped": int((duplicate_of >= 0).sum())}


def reference(corpus: Path, out_dir: Path, batch_texts: int) -> dict:
    """datasketch as text-dedup uses it: one MinHash per document, query the LSH, then insert; each
    candidate is a duplicate pair, clusters by union-find with the lowest index as root."""
    from datasketch import MinHash, MinHashLSH

    from benchmarks.near_dedup_data import reference_shingles

    start = time.perf_counter()
    permutations = MinHash(num_perm=NUM_PERM, seed=SEED).permutations  # computed once, as text-dedup does
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    pairs = []
    texts = (text for batch in _text_batches(corpus, batch_texts) for text in batch.to_pylist())
    rows = 0
    for index, text in enumerate(texts):
        rows += 1
        shingles = reference_shingles(text, SHINGLE_SIZE)
        if not shingles:  # an empty MinHash would collide with every other empty one
            continue
        minhash = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=permutations, scheme="affine32")
        minhash.update_batch([s.encode("utf-8") for s in shingles])
        pairs.extend((index, candidate) for candidate in lsh.query(minhash))
        lsh.insert(index, minhash)
    parent = list(range(rows))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        root_a, root_b = find(a), find(b)
        parent[max(root_a, root_b)] = min(root_a, root_b)
    roots = np.array([find(x) for x in range(rows)], dtype=np.int64)
    seconds = time.perf_counter() - start
    pair_array = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    np.save(out_dir / "reference_pairs.npy", pair_array)
    np.save(out_dir / "reference_roots.npy", roots)
    dropped = int((roots != np.arange(rows)).sum())
    return {"seconds": seconds, "rows": rows, "pairs": len(pairs), "dropped": dropped}


STAGES = {"ours": ours, "reference": reference}


def run_stage(stage: str, corpus: Path, out_dir: Path, text_bytes: int, batch_texts: int) -> StageRun:
    arguments = ["--batch-texts", str(batch_texts), "--stage", stage, str(corpus), str(out_dir)]
    return run_module(stage, "benchmarks.near_dedup", arguments, text_bytes)


def _table(runs: list[StageRun]) -> str:
    header = (
        f"{'side':<10} {'docs':>9} {'MB':>8} {'seconds':>8} {'MB/s':>7} {'docs/s':>8} {'peak RSS':>10} "
        f"{'dropped':>8}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        lines.append(
            f"{run.name:<10} {run.result['rows']:>9,} {run.mb:>8.1f} {run.result['seconds']:>8.1f} "
            f"{run.mb_per_s:>7.2f} {run.rows_per_s:>8,.0f} {run.peak_rss_bytes / 2**20:>6,.0f} MiB "
            f"{run.result['dropped']:>8,}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=DEFAULT_DOCS, help="documents in the corpus")
    parser.add_argument(
        "--batch-texts", type=int, default=BATCH_TEXTS, help="texts per band_keys call (and per read)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; the fastest is reported")
    parser.add_argument("--stage", nargs=3, metavar=("STAGE", "CORPUS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        stage, corpus, out_dir = args.stage
        print_result(STAGES[stage](Path(corpus), Path(out_dir), args.batch_texts))
        return

    corpus = WORK_DIR / f"near_dedup_{args.docs}.parquet"
    if not corpus.exists():
        # Built in a child: a child's peak RSS includes the parent's peak at the fork; keep the parent small.
        build = [sys.executable, "-m", "benchmarks.near_dedup_data", str(corpus), str(args.docs)]
        subprocess.run(build, cwd=PROJECT_ROOT, check=True)
    out_dir = WORK_DIR / f"near_dedup_out_{args.docs}"
    out_dir.mkdir(parents=True, exist_ok=True)
    text_bytes = sum(pc.sum(pc.binary_length(texts)).as_py() for texts in _text_batches(corpus, BATCH_TEXTS))
    runs: dict[str, list[StageRun]] = {"reference": [], "ours": []}
    for _ in range(args.repeat):
        for stage, stage_runs in runs.items():
            stage_runs.append(run_stage(stage, corpus, out_dir, text_bytes, args.batch_texts))
    reference_run, ours_run = fastest(runs["reference"]), fastest(runs["ours"])

    print(f"corpus: {corpus} ({args.docs:,} docs, {text_bytes / 1e6:,.0f} MB of text)")
    print(
        f"shingles: word {SHINGLE_SIZE}-grams; {NUM_PERM} permutations; threshold {THRESHOLD}; "
        f"{args.batch_texts:,} texts per batch; LSH layout (bands x rows) ours / datasketch: {layouts()}"
    )
    if args.repeat > 1:
        for stage, stage_runs in runs.items():
            seconds = ", ".join(f"{run.result['seconds']:.1f}" for run in stage_runs)
            print(f"{stage} seconds over {args.repeat} runs: {seconds}")
    print(_table([reference_run, ours_run]))
    ratio = ours_run.mb_per_s / reference_run.mb_per_s
    memory_ratio = ours_run.peak_rss_bytes / reference_run.peak_rss_bytes
    print(
        f"speed ratio ours/reference: {ratio:.1f}x (goal >= {MIN_SPEED_RATIO:.0f}x) "
        f"{verdict(ratio >= MIN_SPEED_RATIO)}"
    )
    print(
        f"peak RSS ours/reference: {memory_ratio:.2f} (goal < 1, less than the reference) "
        f"{verdict(memory_ratio < 1)}"
    )
    report_quality(corpus, out_dir)


if __name__ == "__main__":
    main()
