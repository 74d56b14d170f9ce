"""The one interface every LLM backend implements, and what the backends share.

Backends: `TransformersLM` (CPU default, tests) and `VllmLM` (GPU: an in-process engine or an
OpenAI-compatible server). Callers hold an `LLMBackend` and never know which one they have.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from instruct_assets.models.chat_encoding import ChatEncoder, EncodedSample


@dataclass
class ResponseLogprobs:
    """Per-token log-probs of each sample's response ids, with and without its context."""

    conditional: list[np.ndarray]  # log p(y_k | y_<k, x), float64, one array per sample
    unconditional: list[np.ndarray]  # log p(y_k | y_<k), same lengths
    pooled: np.ndarray | None = None  # (n, hidden) RDS+ representation, when asked for


class LLMBackend(Protocol):
    model_id: str
    encoder: ChatEncoder

    def response_logprobs(self, samples: Sequence[EncodedSample], pooled: bool = False) -> ResponseLogprobs:
        """Both IFD terms in one call; with `pooled`, also the samples' RDS+ representations."""

    def conditional_logprobs(self, samples: Sequence[EncodedSample]) -> list[np.ndarray]:
        """log p(y_k | y_<k, x) of each sample's response ids: the conditional term alone (evaluation),
        half the work of response_logprobs when responses are long."""

    def pooled_hidden_states(self, samples: Sequence[EncodedSample]) -> np.ndarray:
        """(n, hidden) float32: the position-weighted mean of the final hidden states over the
        conditional ids (context and response), the RDS+ representation."""

    def generate(
        self,
        conversations: Sequence[Sequence[dict]],
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> list[str]:
        """The assistant's next turn for each conversation (greedy when temperature is 0)."""


def length_buckets(
    lengths: Sequence[int], max_batch_tokens: int, max_batch_size: int = 256
) -> Iterator[np.ndarray]:
    """Indices of `lengths` in batches of similar length, longest first, each at most `max_batch_tokens`
    once padded (a single longer sequence gets a batch of its own). Padding is then a few percent."""
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    start = 0
    while start < len(order):
        longest = lengths[order[start]]
        size = max(1, min(max_batch_size, max_batch_tokens // max(longest, 1)))
        yield order[start : start + size]
        start += size


def padded_batch(
    sequences: Sequence[Sequence[int]], batch: np.ndarray, pad_id: int, left: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, attention mask), int64 (len(batch), longest): the sequences of `batch` padded with `pad_id`
    on the right (scoring) or on the left (generation: every prompt then ends where new tokens start)."""
    width = max(len(sequences[i]) for i in batch)
    ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, index in enumerate(batch):
        length = len(sequences[index])
        span = slice(width - length, width) if left else slice(0, length)
        ids[row, span] = sequences[index]
        mask[row, span] = 1
    return ids, mask


def position_weights(length: int) -> np.ndarray:
    """SGPT's position weights w_t = t / sum(1..T), t = 1..T: later tokens, which have read more of the
    sequence, weigh more (RDS+ uses these over prompt and response)."""
    positions = np.arange(1, length + 1, dtype=np.float64)
    return positions / positions.sum()


def sequence_nll(logprobs: np.ndarray) -> float:
    """Mean negative log-likelihood per token (log PPL); NaN for an empty response."""
    return float(-logprobs.mean()) if len(logprobs) else float("nan")
