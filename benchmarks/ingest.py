"""Ingest throughput against polars.read_ndjson on a large real-data ShareGPT source.

Usage: .venv/bin/python -m benchmarks.ingest [--rows N | --quick] [--repeat N]

Prints a table and PASS/FAIL per goal; always exits 0 (it is a report, not a gate). With --repeat, the
stages run in turn N times each and the table shows each stage's fastest run (and its highest peak RSS).
"""

import argparse
from pathlib import Path

from benchmarks.measure import StageRun, fastest, run_stage, verdict
from benchmarks.sharegpt_source import build_source

WORK_DIR = Path(__file__).resolve().parent / ".work"
DEFAULT_ROWS = 1_000_000
QUICK_ROWS = 100_000
# Goals: our throughput at least half of a bare JSON read, and memory bounded whatever the file size.
MIN_THROUGHPUT_RATIO = 0.5
MAX_PEAK_RSS_BYTES = 2 * 2**30


def _table(runs: list[StageRun]) -> str:
    header = (
        f"{'stage':<10} {'rows':>10} {'MB':>8} {'seconds':>8} {'MB/s':>8} {'rows/s':>10} {'peak RSS':>10}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        lines.append(
            f"{run.name:<10} {run.result['rows']:>10,} {run.mb:>8.1f} {run.result['seconds']:>8.2f} "
            f"{run.mb_per_s:>8.1f} {run.rows_per_s:>10,.0f} {run.peak_rss_bytes / 2**20:>7,.0f} MiB"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows in the source file")
    parser.add_argument("--quick", action="store_true", help=f"use {QUICK_ROWS:,} rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs per stage; the fastest is reported")
    args = parser.parse_args()
    rows = QUICK_ROWS if args.quick else args.rows

    source = build_source(WORK_DIR / f"sharegpt_{rows}.jsonl", rows)
    out_dir = WORK_DIR / f"out_{rows}"
    runs: dict[str, list[StageRun]] = {"reference": [], "ingest": []}
    for _ in range(args.repeat):
        for stage, stage_runs in runs.items():
            stage_runs.append(run_stage(stage, source, out_dir))
    reference, ours = fastest(runs["reference"]), fastest(runs["ingest"])

    print(f"source: {source} ({rows:,} rows)")
    if args.repeat > 1:
        for stage, stage_runs in runs.items():
            seconds = ", ".join(f"{run.result['seconds']:.2f}" for run in stage_runs)
            print(f"{stage} seconds over {args.repeat} runs: {seconds}")
    print(_table([reference, ours]))
    quarantined = ours.result["quarantined"]
    print(f"ingest kept {ours.result['kept']:,}, quarantined {sum(quarantined.values()):,}: {quarantined}")
    ratio = ours.mb_per_s / reference.mb_per_s
    rss_ok = ours.peak_rss_bytes < MAX_PEAK_RSS_BYTES
    ratio_ok = ratio >= MIN_THROUGHPUT_RATIO
    print(
        f"throughput ratio ours/reference: {ratio:.2f} (goal >= {MIN_THROUGHPUT_RATIO}) {verdict(ratio_ok)}"
    )
    print(
        f"ingest peak RSS: {ours.peak_rss_bytes / 2**30:.2f} GiB "
        f"(goal < {MAX_PEAK_RSS_BYTES / 2**30:.0f} GiB) {verdict(rss_ok)}"
    )


if __name__ == "__main__":
    main()
