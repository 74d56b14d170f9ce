"""Run one benchmark stage in a fresh Python process and read its result and peak RSS."""

import json
import os
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


def run_stage(stage: str, source: Path, out_dir: Path) -> StageRun:
    """The stage's JSON result and the peak RSS of exactly that child (os.wait4 gives its own rusage)."""
    command = [sys.executable, "-m", "benchmarks.stages", stage, str(source), str(out_dir)]
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"benchmark stage {stage!r} failed with exit code {child.returncode}")
    result = json.loads(output.decode().strip().splitlines()[-1])
    # Linux reports ru_maxrss in KiB.
    return StageRun(stage, result, source.stat().st_size, usage.ru_maxrss * 1024)


def fastest(runs: list[StageRun]) -> StageRun:
    """The fastest of repeated runs of one stage, carrying the highest peak RSS seen in any of them."""
    best = min(runs, key=lambda run: run.result["seconds"])
    return StageRun(best.name, best.result, best.source_bytes, max(run.peak_rss_bytes for run in runs))
