"""A real `dagster dev` on loopback for tests that drive the UI: its own DAGSTER_HOME and data directory,
started in its own process group and always stopped."""

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from instruct_assets.paths import PROJECT_ROOT
from tests.loopback_process import HOST, free_port, log_tail, start_in_own_group, stop_group, wait_until_ok

# The dagster command of the environment running the tests (.venv/bin/dagster under `make test`).
DAGSTER = Path(sys.executable).parent / "dagster"
STARTUP_TIMEOUT_S = 120
# dagster dev stops its webserver, daemon and code servers on SIGINT; this long is enough on a busy machine.
SHUTDOWN_GRACE_S = 30
ENV_PREFIX = "INSTRUCT_ASSETS_"


@dataclass(frozen=True)
class DagsterDevServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        return log_tail(self.log_path, chars)


def make_dagster_home(dagster_home: Path) -> Path:
    """A fresh instance directory with the project's local dagster.yaml (SQLite, telemetry off)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "deploy" / "local" / "dagster.yaml", dagster_home / "dagster.yaml")
    return dagster_home


def dagster_env(dagster_home: Path, data_dir: Path) -> dict[str, str]:
    """The environment of the embedded default pointed at `data_dir` (landing/ and lake/ under it)."""
    # Inherited INSTRUCT_ASSETS_* overrides (e.g. a developer's LAKE_DIR) would send the server elsewhere.
    env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
    env.update(
        {
            "DAGSTER_HOME": str(dagster_home),
            f"{ENV_PREFIX}ENV": "local",
            f"{ENV_PREFIX}DATA_DIR": str(data_dir),
        }
    )
    return env


def stop_sensor(sensor_name: str, env: dict[str, str]) -> None:
    """Record the sensor as stopped in the instance before the daemon starts, so it launches nothing."""
    result = subprocess.run(
        [str(DAGSTER), "sensor", "stop", sensor_name, "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0 or f"Stopped sensor {sensor_name}" not in result.stdout:
        raise RuntimeError(
            f"`dagster sensor stop {sensor_name}` failed (exit {result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )


@contextlib.contextmanager
def dagster_dev(
    env: dict[str, str], log_path: Path, startup_timeout_s: float = STARTUP_TIMEOUT_S
) -> Iterator[DagsterDevServer]:
    """`dagster dev -w workspace.yaml` on a free loopback port; stopped on exit, whatever happened."""
    port = free_port()
    command = [str(DAGSTER), "dev", "-w", "workspace.yaml", "--host", HOST, "--port", str(port)]
    process = start_in_own_group(command, PROJECT_ROOT, env, log_path)
    server = DagsterDevServer(url=f"http://{HOST}:{port}", process=process, log_path=log_path)
    try:
        wait_until_ok(f"{server.url}/server_info", process, log_path, startup_timeout_s, "dagster dev")
        yield server
    finally:
        # dagster dev ignores SIGTERM; its code servers and run workers must not outlive it.
        stop_group(process, SHUTDOWN_GRACE_S)
