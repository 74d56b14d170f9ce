"""Conversations as SFT examples: token ids in the model's chat template, labels on answer tokens only.

Each assistant turn is trained: its content and the template's end-of-turn marker (for ChatML
"<|im_end|>") carry labels, so the model learns what to answer and where to stop; system and user turns
and the generation prompt ("<|im_start|>assistant\\n") are context only (label -100). The pieces are
found by rendering the conversation's prefixes with the chat template and tokenized one by one, the way
ChatEncoder tokenizes context and response for scoring, so training and scoring see the same ids.

Sequences longer than `max_length` are cut at the end. A conversation with no answer token left within
`max_length` (its first prompt is too long) is not an example: `encode_for_sft` returns None and the
caller records the sample as skipped with that reason.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from instruct_assets.models.chat_encoding import ChatEncoder

IGNORED = -100  # the label of a position that does not count in the loss (torch's ignore_index)
SKIPPED_TOO_LONG = "prompt_exceeds_max_length"


@dataclass(frozen=True)
class SftExample:
    input_ids: np.ndarray  # int64 (length,)
    labels: np.ndarray  # int64 (length,): the token id where the loss counts, IGNORED elsewhere
    truncated: bool

    @property
    def trained_tokens(self) -> int:
        return int((self.labels != IGNORED).sum())


def chat_pieces(encoder: ChatEncoder, messages: Sequence[dict]) -> list[tuple[str, bool]]:
    """The rendered conversation as (text, trained) pieces whose concatenation is the chat template's
    rendering; trained pieces are each answer's content and end-of-turn marker. Turns after the last
    answer are left out: there is nothing to learn from them."""
    render = encoder.tokenizer.apply_chat_template
    pieces: list[tuple[str, bool]] = []
    done = ""
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = render(list(messages[:index]), tokenize=False, add_generation_prompt=True)
        answered = render(list(messages[: index + 1]), tokenize=False)
        if not (prompt.startswith(done) and answered.startswith(prompt)):
            raise ValueError(
                "the chat template does not render a conversation as its prefixes followed by the next "
                "turn, so answer tokens cannot be located; train with a template that does (e.g. ChatML)"
            )
        answer = answered[len(prompt) :]
        marker = encoder.end_of_turn
        cut = answer.index(marker) + len(marker) if marker and marker in answer else len(answer)
        pieces += [(prompt[len(done) :], False), (answer[:cut], True), (answer[cut:], False)]
        done = answered
    return [(text, trained) for text, trained in pieces if text]


def encode_for_sft(encoder: ChatEncoder, messages: Sequence[dict], max_length: int) -> SftExample | None:
    """The training example of one conversation, or None when no answer token fits in `max_length`."""
    ids: list[int] = []
    labels: list[int] = []
    for text, trained in chat_pieces(encoder, messages):
        piece = encoder.tokenizer(text, add_special_tokens=False)["input_ids"]
        ids += piece
        labels += piece if trained else [IGNORED] * len(piece)
    truncated = len(ids) > max_length
    example = SftExample(
        np.asarray(ids[:max_length], dtype=np.int64),
        np.asarray(labels[:max_length], dtype=np.int64),
        truncated,
    )
    # Position p predicts token p + 1, so a label at position 0 is never used.
    return example if (example.labels[1:] != IGNORED).any() else None
