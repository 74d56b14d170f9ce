"""vLLM's CPU build in .venv-vllm (`make vllm-venv`), for the conformance test: its environment, a real
OpenAI-compatible server on loopback, and (run as a script in .venv-vllm) the in-process engine scoring.

This module is imported by both environments: it imports only the standard library and, when run as a
script, instruct_assets.models (the project is installed there without dependencies, so no dagster).

    .venv-vllm/bin/python -m tests.vllm_cpu FOLDER CONVERSATIONS_JSON OUTPUT_JSON
scores the conversations with `VllmLM` (engine mode) and writes token ids, log-probs and timings.
"""

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from instruct_assets.paths import PROJECT_ROOT
from tests.loopback_process import HOST, free_port, log_tail, start_in_own_group, stop_group, wait_until_ok

VLLM_PYTHON = PROJECT_ROOT / ".venv-vllm" / "bin" / "python"
CACHE_DIR = PROJECT_ROOT / ".cache" / "vllm"
# Scoring settings shared by the engine script, the server and the reference.
DTYPE = "float32"  # bf16 differs from transformers fp32 by up to ~0.4 nats per token
MAX_LENGTH = 512
MAX_RESPONSE_TOKENS = 256
MAX_MODEL_LEN = 1024
STARTUP_TIMEOUT_S = 420  # healthy in ~100 s here; torch.compile warm-up on a busy 2-core machine
SHUTDOWN_GRACE_S = 30


def vllm_cpu_env() -> dict[str, str]:
    """The environment every vLLM CPU process of the project runs with (engine script and server).

    Caches and temporary files stay in the project (.cache/vllm, gitignored), nothing goes to the hub,
    the KV cache is sized for a small model, and the OpenMP threads are bound to this process's cores
    (by default vLLM's CPU backend uses one)."""
    cores = sorted(os.sched_getaffinity(0))
    contiguous = cores == list(range(cores[0], cores[-1] + 1))
    bind = f"{cores[0]}-{cores[-1]}" if contiguous else ",".join(map(str, cores))
    folders = {
        "VLLM_CACHE_ROOT": CACHE_DIR / "vllm",
        "TORCHINDUCTOR_CACHE_DIR": CACHE_DIR / "inductor",
        "TMPDIR": CACHE_DIR / "tmp",
        "HF_HOME": CACHE_DIR / "hf",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        **{name: str(folder) for name, folder in folders.items()},
        "HF_HUB_OFFLINE": "1",
        "VLLM_CPU_KVCACHE_SPACE": "2",  # GiB
        "VLLM_CPU_OMP_THREADS_BIND": bind,
        "OMP_NUM_THREADS": str(len(cores)),
    }


def run_engine_scoring(folder: str, conversations: list[list[dict]], work_dir: Path) -> dict:
    """Score `conversations` with the in-process engine in .venv-vllm; what the script wrote."""
    conversations_path, output_path = work_dir / "conversations.json", work_dir / "engine_scores.json"
    log_path = work_dir / "engine.log"
    conversations_path.write_text(json.dumps(conversations))
    with log_path.open("wb") as log:
        finished = subprocess.run(
            [str(VLLM_PYTHON), "-m", "tests.vllm_cpu", folder, str(conversations_path), str(output_path)],
            cwd=PROJECT_ROOT,
            env=vllm_cpu_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=STARTUP_TIMEOUT_S + 120,
            check=False,
        )
    if finished.returncode != 0:
        tail = log_path.read_text(errors="replace")[-6000:]
        raise RuntimeError(f"the vLLM engine script exited with {finished.returncode}; {log_path}:\n{tail}")
    return json.loads(output_path.read_text())


@dataclass(frozen=True)
class VllmServer:
    url: str
    process: subprocess.Popen
    log_path: Path
    healthy_after_s: float

    def log_tail(self, chars: int = 6000) -> str:
        return log_tail(self.log_path, chars)


@contextlib.contextmanager
def vllm_server(folder: str, log_path: Path) -> Iterator[VllmServer]:
    """`vllm.entrypoints.openai.api_server` from .venv-vllm on a free loopback port, in its own process
    group; stopped with SIGINT to the group (then SIGKILL) whatever happens. (The `vllm` console command
    fails with the vllm-cpu distribution: it looks up a distribution named vllm.)"""
    port = free_port()
    command = [
        str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", folder,
        "--host", HOST, "--port", str(port), "--dtype", DTYPE, "--max-model-len", str(MAX_MODEL_LEN),
        "--seed", "0",
    ]  # fmt: skip
    started = time.monotonic()
    process = start_in_own_group(command, PROJECT_ROOT, vllm_cpu_env(), log_path)
    url = f"http://{HOST}:{port}"
    try:
        wait_until_ok(f"{url}/health", process, log_path, STARTUP_TIMEOUT_S, "the vLLM server")
        yield VllmServer(url, process, log_path, time.monotonic() - started)
    finally:
        stop_group(process, SHUTDOWN_GRACE_S)  # the engine core is a child: nothing may outlive the test


def score_with_engine(folder: str, conversations: list[list[dict]]) -> dict:
    """In .venv-vllm: the conversations' encodings and response log-probs from the in-process engine."""
    from instruct_assets.models.vllm_lm import VllmLM

    started = time.monotonic()
    lm = VllmLM(
        folder, model_id="conformance", dtype=DTYPE, max_length=MAX_LENGTH,
        max_response_tokens=MAX_RESPONSE_TOKENS, max_model_len=MAX_MODEL_LEN,
    )  # fmt: skip
    engine_start_s = time.monotonic() - started
    samples = lm.encoder.encode_all(conversations)
    started = time.monotonic()
    logprobs = lm.response_logprobs(samples)
    scoring_s = time.monotonic() - started
    return {
        "engine_start_s": engine_start_s,
        "scoring_s": scoring_s,
        "scored_tokens": sum(len(s.conditional_ids) + len(s.unconditional_ids) for s in samples),
        "samples": [dataclasses.asdict(s) for s in samples],
        "conditional": [lp.tolist() for lp in logprobs.conditional],
        "unconditional": [lp.tolist() for lp in logprobs.unconditional],
    }


if __name__ == "__main__":  # the engine starts its workers with spawn: they re-import this module
    model_folder, conversations_file, output_file = sys.argv[1:4]
    scores = score_with_engine(model_folder, json.loads(Path(conversations_file).read_text()))
    Path(output_file).write_text(json.dumps(scores))
