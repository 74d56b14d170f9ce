"""The vllm backend scores what the transformers backend scores: the same token ids, per-token log-probs
within 1e-4 and IFD within 1e-4 (relative), on real ShareGPT conversations and the real SmolLM2 weights,
all in float32. On this CPU vLLM runs from .venv-vllm (`make vllm-venv`): the in-process engine in a
subprocess, and a real OpenAI-compatible server that the main environment's `VllmLM` talks to.
"""

import importlib.util
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from instruct_assets.demo.packaged_data import sharegpt_messages
from instruct_assets.models.chat_encoding import EncodedSample
from instruct_assets.models.llm_backend import ResponseLogprobs
from instruct_assets.paths import PROJECT_ROOT
from instruct_assets.scoring.ifd import ifd_frame
from tests.vllm_cpu import (
    DTYPE,
    MAX_LENGTH,
    MAX_MODEL_LEN,
    MAX_RESPONSE_TOKENS,
    VLLM_PYTHON,
    run_engine_scoring,
    vllm_server,
)

# A vLLM start (torch.compile warm-up, cached in .cache/vllm) takes 100-300 s on a busy 2-core machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

LOGPROB_ATOL = 1e-4
IFD_RTOL = 1e-4
CONVERSATIONS = 12


def require_vllm_venv() -> None:
    if VLLM_PYTHON.exists():
        return
    message = f"{VLLM_PYTHON.relative_to(PROJECT_ROOT)} is missing: `make vllm-venv` builds vLLM's CPU build"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run this test (scripts/test.sh builds it when CI is set)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def folder(smollm2_folder) -> str:
    return smollm2_folder


@pytest.fixture(scope="module")
def conversations(real_conversations) -> list[list[dict]]:
    """The first exchange of real conversations that open user -> assistant."""
    exchanges = [
        sharegpt_messages(r)[:2] for r in real_conversations if r["conversations"][1]["from"] == "gpt"
    ]
    assert len(exchanges) >= CONVERSATIONS
    return exchanges[:CONVERSATIONS]


@pytest.fixture(scope="module")
def reference(folder, conversations):
    """TransformersLM in float32 on the CPU: (encoded samples, their log-probs with pooled states)."""
    from instruct_assets.models.transformers_lm import TransformersLM

    lm = TransformersLM(
        folder, "reference", dtype=DTYPE, max_length=MAX_LENGTH, max_response_tokens=MAX_RESPONSE_TOKENS
    )
    samples = lm.encoder.encode_all(conversations)
    return samples, lm.response_logprobs(samples, pooled=True)


def assert_conforms(reference, conditional, unconditional, label: str) -> None:
    samples, expected = reference
    worst = 0.0
    for name, ours, theirs in (
        ("conditional", conditional, expected.conditional),
        ("unconditional", unconditional, expected.unconditional),
    ):
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert len(a) == len(b), f"{label}: sample {index} {name}: {len(a)} log-probs, reference {len(b)}"
            difference = float(np.max(np.abs(np.asarray(a) - b))) if len(b) else 0.0
            assert difference <= LOGPROB_ATOL, (
                f"{label}: sample {index} {name}: log-probs off by {difference:.1e}"
            )
            worst = max(worst, difference)
    ours = ResponseLogprobs([np.asarray(lp) for lp in conditional], [np.asarray(lp) for lp in unconditional])
    ifd = ifd_frame(samples, ours)["ifd"].to_numpy()
    ifd_expected = ifd_frame(samples, expected)["ifd"].to_numpy()
    relative = np.abs(ifd - ifd_expected) / np.abs(ifd_expected)
    worst_ifd = int(relative.argmax())
    assert relative.max() <= IFD_RTOL, (
        f"{label}: sample {worst_ifd}: IFD off by {relative.max():.1e} (relative)"
    )
    tokens = sum(len(s.response_ids) for s in samples)
    print(f"\n{label}: {len(samples)} samples, {tokens} response tokens x 2; "
          f"max |dlogprob| {worst:.2e}, max IFD rel diff {relative.max():.2e}")  # fmt: skip


def test_vllm_engine_on_cpu_scores_the_same_ids_and_logprobs_as_transformers(
    folder, conversations, reference, tmp_path
):
    require_vllm_venv()
    scored = run_engine_scoring(folder, conversations, tmp_path)
    samples = reference[0]
    for index, (sample, encoded) in enumerate(zip(samples, scored["samples"], strict=True)):
        assert EncodedSample(**encoded) == sample, (
            f"sample {index}: .venv-vllm's tokenizer encodes differently"
        )
    assert_conforms(reference, scored["conditional"], scored["unconditional"], "vllm engine (cpu)")
    tokens, seconds = scored["scored_tokens"], scored["scoring_s"]
    start = scored["engine_start_s"]
    print(f"engine start {start:.1f} s; {tokens} tokens in {seconds:.2f} s ({tokens / seconds:.0f} tok/s)")


def test_vllm_server_scored_from_the_main_environment_matches_transformers(
    folder, conversations, reference, tmp_path
):
    require_vllm_venv()
    from instruct_assets.models.vllm_lm import VllmLM

    log_path = tmp_path / "vllm_server.log"
    with vllm_server(folder, log_path) as server:
        try:
            lm = VllmLM(
                folder, "conformance", server_url=server.url, dtype=DTYPE, max_length=MAX_LENGTH,
                max_response_tokens=MAX_RESPONSE_TOKENS, max_model_len=MAX_MODEL_LEN,
            )  # fmt: skip
            samples = lm.encoder.encode_all(conversations)
            assert samples == reference[0], "the server mode's torch-free tokenizer encodes differently"
            started = time.monotonic()
            scored = lm.response_logprobs(samples)
            scoring_s = time.monotonic() - started
            answers = lm.generate(conversations[:2], max_new_tokens=8)
            with_pooling = lm.response_logprobs(samples[:2], pooled=True)
            conditional_only = lm.conditional_logprobs(samples[:3])
        except Exception:
            print(f"server log tail ({log_path}):\n{server.log_tail()}")
            raise
    assert_conforms(reference, scored.conditional, scored.unconditional, "vllm server (cpu)")
    # RDS+ representations come from transformers on the same folder (vLLM exposes no hidden states).
    np.testing.assert_allclose(with_pooling.pooled, reference[1].pooled[:2], atol=1e-5)
    for alone, both in zip(conditional_only, scored.conditional[:3], strict=False):
        np.testing.assert_allclose(alone, both, atol=1e-6)
    assert all(answer for answer in answers), answers
    tokens = sum(len(s.conditional_ids) + len(s.unconditional_ids) for s in samples)
    print(f"server healthy after {server.healthy_after_s:.1f} s; {tokens} tokens in {scoring_s:.2f} s")


def test_vllm_server_client_imports_neither_vllm_nor_torch(folder):
    """The server mode runs where the pipeline runs; it loads only the tokenizer (no server is needed to
    check that: the client stops at the first request, which finds nothing listening)."""
    script = (
        "import sys\n"
        "from instruct_assets.models.vllm_lm import VllmLM\n"
        "try:\n"
        f"    VllmLM({folder!r}, 'x', server_url='http://127.0.0.1:9')\n"
        "except ConnectionError as error:\n"
        "    assert 'http://127.0.0.1:9/v1/models' in str(error), error\n"
        "print(sorted(m for m in ('vllm', 'torch') if m in sys.modules))\n"
    )
    command = [sys.executable, "-c", script]
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None, reason="no GPU: vllm is not installed in this environment"
)
def test_vllm_engine_on_gpu_matches_transformers(folder, conversations, reference):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no GPU")
    from instruct_assets.resources.llm import LLMResource, load_llm

    resource = LLMResource(
        backend="vllm",
        model=folder,
        dtype=DTYPE,
        max_length=MAX_LENGTH,
        max_response_tokens=MAX_RESPONSE_TOKENS,
    )
    lm = load_llm(resource)
    samples = lm.encoder.encode_all(conversations)
    assert samples == reference[0]
    scored = lm.response_logprobs(samples)
    assert_conforms(reference, scored.conditional, scored.unconditional, "vllm engine (gpu)")
