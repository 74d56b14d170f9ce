"""Dev loss: the mean negative log-likelihood per token of held-out reference answers.

The loss a fine-tuning run minimises, measured on data it never trained on: lower means the checkpoint
finds the references likelier. Tokens are the encoder's response ids, so the end-of-turn token counts
(the model must know where an answer stops) and a response longer than the encoder's
`max_response_tokens` is scored on its first tokens only.
"""

from collections.abc import Sequence

import numpy as np

from instruct_assets.evaluation.exchanges import conversation_logprobs, exchange
from instruct_assets.models.llm_backend import LLMBackend, sequence_nll


def conversation_nll(backend: LLMBackend, conversations: Sequence[Sequence[dict]]) -> np.ndarray:
    """(n,) float64: mean NLL per response token of each conversation's first answer given the turns
    before it (the first exchange, as the encoder takes it). One batched backend call."""
    logprobs = conversation_logprobs(backend, conversations)
    return np.array([sequence_nll(lp) for lp in logprobs], dtype=np.float64)


def response_nll(backend: LLMBackend, prompts: Sequence[str], references: Sequence[str]) -> np.ndarray:
    """(n,) float64: mean NLL per token of each reference as the assistant's reply to its prompt."""
    if len(prompts) != len(references):
        raise ValueError(f"{len(prompts)} prompts but {len(references)} references")
    return conversation_nll(backend, [exchange(p, r) for p, r in zip(prompts, references, strict=True)])
