"""A server process for tests: started on loopback in its own process group, waited for until its URL
answers, and always stopped (SIGINT to the group, then SIGKILL). Standard library only: .venv-vllm
imports it too."""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def log_tail(log_path: Path, chars: int = 6000) -> str:
    return log_path.read_text(encoding="utf-8", errors="replace")[-chars:] if log_path.exists() else ""


def _prepare_child() -> None:
    # Tests run in the background by a non-interactive shell inherit an ignored SIGINT, and so would the
    # server, which would then ignore the SIGINT that stops it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # If the test process is killed outright (a timeout's SIGKILL), its `finally` never runs: have the
    # kernel kill the server with it (Linux prctl PR_SET_PDEATHSIG), or it would hold gigabytes for good.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def start_in_own_group(
    command: list[str], cwd: Path, env: dict[str, str], log_path: Path
) -> subprocess.Popen:
    """Start `command` with stdout and stderr into `log_path`, in a new session (its own process group)."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_prepare_child,
        )


def wait_until_ok(url: str, process: subprocess.Popen, log_path: Path, timeout_s: float, what: str) -> None:
    """Poll `url` until it answers 200; raise with the log's tail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; {log_path}:\n{log_tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise TimeoutError(
        f"{what} did not answer {url} within {timeout_s:.0f} s; {log_path}:\n{log_tail(log_path)}"
    )


def stop_group(process: subprocess.Popen, grace_s: float) -> None:
    """SIGINT to the whole process group (servers that ignore SIGTERM stop on it), SIGKILL after
    `grace_s`, and SIGKILL again for children that outlived the leader (they would hold ports and files)."""
    pgid = process.pid  # start_new_session: the group id is the leader's pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGINT)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
