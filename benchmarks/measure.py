"""Run one benchmark stage in a fresh Python process and read its result and peak RSS."""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class StageRun:
    name: str
    result: dict
    source_bytes: int
    peak_rss_bytes: int

    @property
    def mb(self) -> float:
        return self.source_bytes / 1e6

    @property
    def mb_per_s(self) -> float:
        return self.mb / self.result["seconds"]

    @property
    def rows_per_s(self) -> float:
        return self.result["rows"] / self.result["seconds"]


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def own_peak_rss_bytes() -> int:
    """This process's peak resident set (VmHWM). Unlike the ru_maxrss a parent reads from os.wait4, it
    restarts at exec, so it does not include the parent's memory copied at fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("/proc/self/status has no VmHWM line (not Linux?)")


def print_result(result: dict) -> None:
    """How a stage process reports: one JSON line with its result and its own peak RSS."""
    print(json.dumps({**result, "peak_rss_bytes": own_peak_rss_bytes()}))


def run_module(name: str, module: str, args: list[str], size_bytes: int, env: dict | None = None) -> StageRun:
    """Run `python -m module *args` in a fresh process; its last stdout line is its JSON result, and its
    peak RSS the one it reported through print_result."""
    command = [sys.executable, "-m", module, *args]
    completed = subprocess.run(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, env=env)
    if completed.returncode != 0:
        raise RuntimeError(
            f"benchmark stage {name!r} ({module}) failed with exit code {completed.returncode}"
        )
    result = json.loads(completed.stdout.decode().strip().splitlines()[-1])
    return StageRun(name, result, size_bytes, result["peak_rss_bytes"])


def run_stage(stage: str, source: Path, out_dir: Path) -> StageRun:
    """One stage of benchmarks.stages on `source`."""
    return run_module(stage, "benchmarks.stages", [stage, str(source), str(out_dir)], source.stat().st_size)


def fastest(runs: list[StageRun]) -> StageRun:
    """The fastest of repeated runs of one stage, carrying the highest peak RSS seen in any of them."""
    best = min(runs, key=lambda run: run.result["seconds"])
    return StageRun(best.name, best.result, best.source_bytes, max(run.peak_rss_bytes for run in runs))
