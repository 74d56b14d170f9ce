"""The whole CPU curation path at scale: `materialize_all` (ingest, dedup, filter, decontamination per
source, then DSIR, the foundational set and the reports) on 100k and 1M rows of recombined ShareGPT data.

Usage: .venv/bin/python -m benchmarks.curation_scale [--rows 100000 1000000] [--sources 3] [--timeout S]

Each size gets a landing directory built once under benchmarks/.work/ (scale_landing.py), then a fresh
data directory and DAGSTER_HOME, and one child process that runs `materialize_all` as
`instruct-assets materialize` does; the child times that call (its imports excluded) and the parent
reads the child's peak RSS and CPU time from os.wait4. Per-stage seconds are the Dagster step durations
read back from the run's instance, summed over sources; rows per stage come from the curation funnel.
A child still running after --timeout seconds is stopped and the steps it finished are reported.
Prints a table and PASS/FAIL per goal; always exits 0 (it is a report, not a gate).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import PROJECT_ROOT, StageRun, own_peak_rss_bytes, verdict
from benchmarks.scale_landing import build_scale_landing

WORK_DIR = Path(__file__).resolve().parent / ".work"
DEFAULT_ROWS = [100_000, 1_000_000]
DEFAULT_TIMEOUT_S = 40 * 60
POLL_S, PROGRESS_EVERY_S, KILL_GRACE_S = 1.0, 60.0, 30.0
# Goals: time grows no worse than linearly in rows (15% slack), and memory stays bounded.
LINEAR_SLACK = 1.15
MAX_PEAK_RSS_BYTES = 4 * 2**30
# Dagster step key -> stage column, in pipeline order; per-source steps are summed over sources.
STAGES = {
    "benchmark_targets": "targets",
    "ingest_source": "ingest",
    "deduplicate_source": "dedup",
    "filtered_pool": "filter",
    "decontaminated_pool": "decontam",
    "dsir_weights": "dsir",
    "foundational_set": "F",
    "source_accounting": "reports",
    "curation_funnel": "reports",
}
STAGE_COLUMNS = list(dict.fromkeys(STAGES.values()))


@dataclass
class SizeRun:
    rows: int
    run: StageRun  # result: seconds, outcomes; source_bytes: landing size
    cpu_seconds: float
    timed_out: bool
    steps: list[dict] = field(default_factory=list)  # source, step, seconds (None: unfinished)
    funnel: list[dict] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.run.result["seconds"]

    def stage_seconds(self) -> dict[str, float]:
        totals = dict.fromkeys(STAGE_COLUMNS, 0.0)
        for step in self.steps:
            stage = STAGES.get(step["step"], "other steps")
            totals[stage] = totals.get(stage, 0.0) + (step["seconds"] or 0.0)
        totals["outside steps"] = self.seconds - sum(totals.values())
        return totals


def child_main(run_dir: Path) -> None:
    """In the child: materialize everything on the instance at DAGSTER_HOME; write seconds and outcomes."""
    import dagster as dg

    from instruct_assets.cli.materialize import materialize_all

    instance = dg.DagsterInstance.get()
    start = time.perf_counter()
    outcomes = materialize_all(instance)
    seconds = time.perf_counter() - start
    # The child's own high-water mark: its ru_maxrss would include the parent's memory at the fork.
    result = {"seconds": seconds, "outcomes": outcomes, "peak_rss_bytes": own_peak_rss_bytes()}
    (run_dir / "result.json").write_text(json.dumps(result))


def _instance(home: Path):
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def read_steps(home: Path) -> list[dict]:
    """Every step of every run on the instance at `home`, oldest run first; seconds None if unfinished."""
    steps = []
    with _instance(home) as instance:
        for record in reversed(instance.get_run_records()):
            source = record.dagster_run.tags.get("dagster/partition", "")
            for stat in instance.get_run_step_stats(record.dagster_run.run_id):
                finished = stat.end_time is not None and stat.start_time is not None
                seconds = stat.end_time - stat.start_time if finished else None
                steps.append({"source": source, "step": stat.step_key, "seconds": seconds,
                              "start": stat.start_time, "end": stat.end_time,
                              "status": stat.status.value if stat.status else "STARTED"})  # fmt: skip
    return steps


def _running_step(home: Path) -> str:
    try:
        unfinished = [s for s in read_steps(home) if s["seconds"] is None]
    except Exception as error:  # the child may be creating the instance's tables
        return f"(instance not readable yet: {type(error).__name__})"
    return ", ".join(f"{s['step']}[{s['source']}]" if s["source"] else s["step"] for s in unfinished)


def run_size(rows: int, sources: int, timeout_s: float) -> SizeRun:
    root = WORK_DIR / f"curation_scale_{rows}_{sources}src"
    start = time.perf_counter()
    counts = build_scale_landing(root, rows, sources)
    built_s = time.perf_counter() - start
    print(f"[{rows:,}] landing {root / 'landing'}: {counts} ({built_s:.0f} s)", flush=True)
    landing_bytes = sum(p.stat().st_size for p in (root / "landing").rglob("*") if p.is_file())

    run_dir = root / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    home, data = run_dir / "dagster_home", run_dir / "data"
    home.mkdir(parents=True)
    data.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "local" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "INSTRUCT_ASSETS_DATA_DIR": str(data),
        "INSTRUCT_ASSETS_LANDING_DIR": str(root / "landing"),
        "INSTRUCT_ASSETS_SOURCES_FILE": str(root / "sources.yaml"),
    }
    command = [sys.executable, "-m", "benchmarks.curation_scale", "--child", str(run_dir)]
    with (run_dir / "materialize.log").open("wb") as log:
        child = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    started, last_progress, timed_out = time.monotonic(), time.monotonic(), False
    rss_samples: list[tuple[float, int]] = []  # (unix time, RSS bytes), to attribute memory to steps
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        rss_samples.append((time.time(), _rss_bytes(child.pid)))
        elapsed = time.monotonic() - started
        if elapsed > timeout_s and not timed_out:
            print(f"[{rows:,}] still running after {timeout_s:.0f} s: stopping it", flush=True)
            os.kill(child.pid, signal.SIGTERM)
            timed_out = True
        elif timed_out and elapsed > timeout_s + KILL_GRACE_S:
            os.kill(child.pid, signal.SIGKILL)
        if time.monotonic() - last_progress >= PROGRESS_EVERY_S:
            print(f"[{rows:,}] {elapsed:5.0f} s, running: {_running_step(home)}", flush=True)
            last_progress = time.monotonic()
        time.sleep(POLL_S)
    elapsed = time.monotonic() - started
    exit_code = os.waitstatus_to_exitcode(status)
    result_file = run_dir / "result.json"
    if result_file.is_file():
        result = json.loads(result_file.read_text())
    else:  # stopped or crashed: wall time of the child as the parent saw it
        result = {"seconds": elapsed, "outcomes": [[f"child exited with {exit_code}", False]]}
    result["rows"] = rows
    funnel_path = data / "lake" / "curation_funnel.parquet"
    # ru_maxrss (KiB) only when the child died before reporting its own peak.
    peak_rss = result.get("peak_rss_bytes", usage.ru_maxrss * 1024)
    return SizeRun(
        rows=rows,
        run=StageRun(f"{rows:,}", result, landing_bytes, peak_rss),
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        timed_out=timed_out,
        steps=_with_peak_rss(read_steps(home), rss_samples),
        funnel=_read_funnel(funnel_path) if funnel_path.is_file() else [],
    )


def _rss_bytes(pid: int) -> int:
    """The process's resident set now (0 if it is gone): sampled, so a short spike can be missed."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    kib = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "0")
    return int(kib) * 1024


def _with_peak_rss(steps: list[dict], samples: list[tuple[float, int]]) -> list[dict]:
    """Each step with the highest RSS sampled while it ran (None when no sample fell inside it)."""
    for step in steps:
        end = step["end"] if step["end"] is not None else float("inf")
        inside = [rss for at, rss in samples if step["start"] is not None and step["start"] <= at <= end]
        step["peak_rss"] = max(inside) if inside else None
    return steps


def _read_funnel(path: Path) -> list[dict]:
    import polars as pl

    return pl.read_parquet(path).to_dicts()


def _table(runs: list[SizeRun]) -> str:
    stages = list(runs[0].stage_seconds())
    stage_headers = " ".join(f"{s:>{max(len(s), 7)}}" for s in stages)
    header = (
        f"{'rows':>10} {'MB':>6} {'seconds':>8} {'rows/s':>7} {'peak RSS':>9} {'CPU s':>7} {stage_headers}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        per_stage = run.stage_seconds()
        lines.append(
            f"{run.rows:>10,} {run.run.mb:>6.0f} {run.seconds:>8.1f} {run.run.rows_per_s:>7,.0f} "
            f"{run.run.peak_rss_bytes / 2**30:>5.2f} GiB {run.cpu_seconds:>7.0f} "
            + " ".join(f"{per_stage.get(s, 0.0):>{max(len(s), 7)}.1f}" for s in stages)
            + ("  (stopped at the timeout)" if run.timed_out else "")
        )
    return "\n".join(lines)


def _funnel_table(runs: list[SizeRun]) -> str:
    lines = [f"{'rows':>10} {'stage':<16} {'rows in':>9} {'kept':>9} {'dropped':>8}  drops by reason"]
    for run in runs:
        for stage in run.funnel:
            lines.append(
                f"{run.rows:>10,} {stage['stage']:<16} {stage['rows_in']:>9,} {stage['kept']:>9,} "
                f"{stage['dropped']:>8,}  {stage['drops_by_reason'][:100]}"
            )
    return "\n".join(lines)


def _per_source_steps(run: SizeRun) -> str:
    lines = [f"{run.rows:,} rows, by step: seconds, highest RSS sampled (1 s) while it ran, status"]
    for step in run.steps:
        seconds = "unfinished" if step["seconds"] is None else f"{step['seconds']:.1f}"
        rss = "-" if step["peak_rss"] is None else f"{step['peak_rss'] / 2**30:.2f} GiB"
        lines.append(
            f"  {step['source'] or '-':<16} {step['step']:<22} {seconds:>10} {rss:>9}  {step['status']}"
        )
    return "\n".join(lines)


def _scaling(small: SizeRun, large: SizeRun) -> list[str]:
    factor = large.rows / small.rows
    limit = factor * LINEAR_SLACK
    ratio = large.seconds / small.seconds
    lines = [
        f"time({large.rows:,}) / time({small.rows:,}): {ratio:.2f} for {factor:.0f}x rows "
        f"(goal <= {limit:.1f}) {verdict(ratio <= limit and not large.timed_out)}"
    ]
    small_stages, large_stages = small.stage_seconds(), large.stage_seconds()
    per_stage = ", ".join(
        f"{stage} {large_stages[stage] / small_stages[stage]:.1f}"
        for stage in large_stages
        if small_stages.get(stage, 0) > 0.5
    )
    lines.append(f"  per stage: {per_stage}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=DEFAULT_ROWS, help="total rows per run")
    parser.add_argument("--sources", type=int, default=3, choices=[1, 2, 3], help="sources to split into")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per size")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child)
        return

    runs = []
    for rows in sorted(args.rows):
        run = run_size(rows, args.sources, args.timeout)
        failed = [label for label, success in run.run.result["outcomes"] if not success]
        print(f"[{rows:,}] done in {run.seconds:.0f} s" + (f"; FAILED runs: {failed}" if failed else ""))
        runs.append(run)

    print()
    print(_table(runs))
    print("(seconds: materialize_all in the child, imports excluded; stage columns: Dagster step durations")
    print(" summed over sources; 'outside steps': run launch and bookkeeping between steps)")
    print()
    print(_funnel_table(runs))
    print()
    for run in runs:
        print(_per_source_steps(run))
    print()
    if len(runs) > 1:
        print("\n".join(_scaling(runs[0], runs[-1])))
    for run in runs:
        rss = run.run.peak_rss_bytes
        print(
            f"peak RSS at {run.rows:,} rows: {rss / 2**30:.2f} GiB "
            f"(goal < {MAX_PEAK_RSS_BYTES / 2**30:.0f} GiB) {verdict(rss < MAX_PEAK_RSS_BYTES)}"
        )


if __name__ == "__main__":
    main()
