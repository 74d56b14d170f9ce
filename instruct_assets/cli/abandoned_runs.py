"""Runs of `instruct-assets materialize` whose process died (kill -9, a lost machine) stay STARTED in the
Dagster instance and keep the concurrency slots they held: the next run would wait forever for the `gpu`
pool's one slot. Each run the command launches carries its host and pid as tags, so a later invocation
can tell its own dead runs from live ones and release them."""

import os
import socket

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

HOST_TAG = "instruct_assets/cli_host"
PID_TAG = "instruct_assets/cli_pid"


def launcher_tags() -> dict[str, str]:
    """The tags that let a later invocation on this host tell whether this process is still alive."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def release_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed, and free the concurrency slots of, every unfinished run launched on this host by a
    process that no longer exists; returns their run ids."""
    unfinished = instance.get_runs(
        filters=RunsFilter(
            statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
            tags={HOST_TAG: socket.gethostname()},
        )
    )
    released = []
    for run in unfinished:
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if pid and (pid == os.getpid() or process_alive(pid)):
            continue
        instance.report_run_failed(run, message=f"its process ({pid}) died; released by instruct-assets")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released
