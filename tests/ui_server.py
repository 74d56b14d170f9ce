"""A real `dagster dev` on loopback for tests that drive the UI: its own DAGSTER_HOME and data directory,
started in its own process group and always stopped."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from instruct_assets.paths import PROJECT_ROOT

# The dagster command of the environment running the tests (.venv/bin/dagster under `make test`).
DAGSTER = Path(sys.executable).parent / "dagster"
HOST = "127.0.0.1"
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
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return text[-chars:]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


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


def _restore_sigint() -> None:
    # Tests run in the background by a non-interactive shell inherit an ignored SIGINT, and so would
    # dagster dev, which would then ignore the SIGINT that stops it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_until_serving(server: DagsterDevServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"dagster dev exited with {server.process.returncode} before serving; log tail:\n"
                f"{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/server_info", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise TimeoutError(
        f"dagster dev did not answer {server.url}/server_info within {timeout_s:.0f} s; log tail:\n"
        f"{server.log_tail()}"
    )


def _stop(process: subprocess.Popen) -> None:
    """SIGINT to the whole process group (dagster dev ignores SIGTERM), then SIGKILL what is left."""
    pgid = process.pid  # start_new_session: the group id is the leader's pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGINT)
    try:
        process.wait(timeout=SHUTDOWN_GRACE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        process.wait(timeout=10)
    # Code servers or run workers that outlived dagster dev would hold the port and the SQLite files.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@contextlib.contextmanager
def dagster_dev(
    env: dict[str, str], log_path: Path, startup_timeout_s: float = STARTUP_TIMEOUT_S
) -> Iterator[DagsterDevServer]:
    """`dagster dev -w workspace.yaml` on a free loopback port; stopped on exit, whatever happened."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "-w", "workspace.yaml", "--host", HOST, "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_restore_sigint if signal.getsignal(signal.SIGINT) is signal.SIG_IGN else None,
        )
    server = DagsterDevServer(url=f"http://{HOST}:{port}", process=process, log_path=log_path)
    try:
        _wait_until_serving(server, startup_timeout_s)
        yield server
    finally:
        _stop(process)
