"""Token ids of a sample's first exchange, in the model's chat template, for scoring its response.

Every backend scores the same ids (the vllm backend sends them as token prompts), so the backends differ
only in arithmetic. For IFD the response is scored twice with identical response ids:
    conditional    chat_template(turns before the answer, generation prompt) + response
    unconditional  the generation prompt alone (e.g. "<|im_start|>assistant\\n") + response
so PPL(y) is the answer as an assistant turn with no instruction, not raw text the model never sees.
The response ids are the answer's content followed by the template's end-of-turn marker (for ChatML
"<|im_end|>"): the model must learn where an answer stops, so that token counts as part of it.

Truncation: a response longer than `max_response_tokens` is cut at the end; then the context is cut from
the left to fit `max_length` (the generation prompt, at its end, stays). Samples are flagged `truncated`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

MARKER = "\u2063ANSWER\u2063"  # a string no template rewrites, to find where message content sits


@dataclass(frozen=True)
class EncodedSample:
    context_ids: list[int]  # the instruction, in the chat template, up to the generation prompt
    bare_context_ids: list[int]  # the generation prompt alone: the context of PPL(y)
    response_ids: list[int]  # the answer and the end-of-turn marker
    truncated: bool

    @property
    def conditional_ids(self) -> list[int]:
        return self.context_ids + self.response_ids

    @property
    def unconditional_ids(self) -> list[int]:
        return self.bare_context_ids + self.response_ids


def first_exchange(messages: Sequence[dict]) -> tuple[list[dict], str]:
    """(the turns before the first answer, the first answer): what IFD and RDS+ score."""
    for index, message in enumerate(messages):
        if message["role"] == "assistant":
            return [dict(m) for m in messages[:index]], message["content"]
    raise ValueError("the conversation has no assistant turn")


class ChatEncoder:
    """Encodes conversations with a tokenizer's own chat template (the model's expected format)."""

    def __init__(self, tokenizer, max_length: int = 512, max_response_tokens: int = 256):
        if max_response_tokens >= max_length:
            raise ValueError(
                f"max_response_tokens ({max_response_tokens}) must be < max_length ({max_length})"
            )
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.max_response_tokens = max_response_tokens
        probe = [{"role": "user", "content": "probe"}]
        without = tokenizer.apply_chat_template(probe, tokenize=False)
        with_prompt = tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=True)
        if not with_prompt.startswith(without):
            raise ValueError("the chat template's generation prompt is not a suffix of the rendered turns")
        self.generation_prompt = with_prompt[len(without) :]
        answered = tokenizer.apply_chat_template(
            [*probe, {"role": "assistant", "content": MARKER}], tokenize=False
        )
        end_of_turn = answered.split(MARKER, 1)[1]
        eos = tokenizer.eos_token
        self.end_of_turn = (
            end_of_turn[: end_of_turn.index(eos) + len(eos)] if eos and eos in end_of_turn else ""
        )
        # The tokenizer's own convention for the start of a text (a BOS for Llama 3, nothing for ChatML).
        self.bare_context_ids = tokenizer(self.generation_prompt, add_special_tokens=True)["input_ids"]

    def encode(self, messages: Sequence[dict]) -> EncodedSample:
        context, answer = first_exchange(messages)
        context_ids = self.tokenizer.apply_chat_template(context, add_generation_prompt=True, tokenize=True)
        if hasattr(context_ids, "keys"):  # a BatchEncoding in transformers 5
            context_ids = context_ids["input_ids"]
        response_ids = self.tokenizer(answer + self.end_of_turn, add_special_tokens=False)["input_ids"]
        truncated = len(response_ids) > self.max_response_tokens
        response_ids = response_ids[: self.max_response_tokens]
        room = self.max_length - len(response_ids)
        if len(context_ids) > room:
            truncated = True
            context_ids = context_ids[len(context_ids) - room :]
        return EncodedSample(list(context_ids), list(self.bare_context_ids), list(response_ids), truncated)

    def encode_query(self, text: str) -> EncodedSample:
        """A benchmark item (question and answer in one text) as one user turn, for its RDS+ vector: target
        items carry no separate answer, so the whole item is the turn. Cut at the end to max_length."""
        ids = self.tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=True)
        if hasattr(ids, "keys"):
            ids = ids["input_ids"]
        return EncodedSample(list(ids[: self.max_length]), [], [], len(ids) > self.max_length)

    def encode_all(self, conversations: Sequence[Sequence[dict]]) -> list[EncodedSample]:
        return [self.encode(messages) for messages in conversations]
