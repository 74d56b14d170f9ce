"""Scoring an answer as the assistant's reply to one user prompt: what every evaluation metric builds on."""

from collections.abc import Sequence

import numpy as np

from instruct_assets.models.llm_backend import LLMBackend


def exchange(prompt: str, response: str) -> list[dict]:
    """One user turn and the assistant turn that answers it, as chat messages."""
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]


def conversation_logprobs(backend: LLMBackend, conversations: Sequence[Sequence[dict]]) -> list[np.ndarray]:
    """log p(y_k | y_<k, context) for the response tokens of each conversation's first exchange, in the
    backend's chat template (the encoder's ids: the answer and its end-of-turn token, truncated as the
    encoder truncates), float64, in input order. One batched backend call; [] for no conversations."""
    if not conversations:
        return []
    return backend.conditional_logprobs(backend.encoder.encode_all(conversations))


def response_logprobs(
    backend: LLMBackend, prompts: Sequence[str], responses: Sequence[str]
) -> list[np.ndarray]:
    """Per-token log-probs of each response as the assistant's reply to its prompt (one batched call)."""
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    return conversation_logprobs(backend, [exchange(p, r) for p, r in zip(prompts, responses, strict=True)])
