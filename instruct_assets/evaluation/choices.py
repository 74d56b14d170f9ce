"""Multiple-choice accuracy by log-likelihood (cloze style): the model never writes a letter; each choice
is scored as its reply to the question, and the likeliest choice is its prediction.

    score(c)      = log p(c, end-of-turn | question)   summed over the choice's response tokens
    predicted     = argmax_c score(c)                  lm-eval-harness "acc"
    predicted_norm= argmax_c score(c) / bytes(c)       "acc_norm": long choices are not penalised for
                                                       having more tokens to pay for
The end-of-turn token is part of each choice's score: the model is asked how likely it is to answer with
exactly this choice and stop. Ties go to the lowest index (numpy argmax), so a model that cannot tell
the choices apart picks the first.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from instruct_assets.evaluation.exchanges import response_logprobs
from instruct_assets.models.llm_backend import LLMBackend


@dataclass(frozen=True)
class ChoiceResult:
    """Per-item predictions and the two accuracies (NaN for no items)."""

    choice_logprobs: list[np.ndarray]  # per item, summed log p(choice | prompt) of each choice, float64
    choice_bytes: list[np.ndarray]  # per item, UTF-8 length of each choice (the acc_norm divisor)
    predicted: np.ndarray  # int64 index of the likeliest choice
    predicted_norm: np.ndarray  # int64 index of the likeliest choice per byte
    is_correct: np.ndarray  # np.bool_
    is_correct_norm: np.ndarray  # np.bool_
    accuracy: float
    accuracy_norm: float


def choice_accuracy(
    backend: LLMBackend,
    prompts: Sequence[str],
    choices: Sequence[Sequence[str]],
    correct: Sequence[int],
) -> ChoiceResult:
    """Scores every (prompt, choice) pair in one batched backend call and picks each item's choice.

    Raises ValueError when the lengths differ, an item has no choice, or a correct index is out of range.
    """
    if not len(prompts) == len(choices) == len(correct):
        raise ValueError(f"{len(prompts)} prompts, {len(choices)} choice lists, {len(correct)} answers")
    for index, (options, right) in enumerate(zip(choices, correct, strict=True)):
        if not options or not 0 <= right < len(options):
            raise ValueError(f"item {index}: correct choice {right} is not an index of {list(options)}")
    pair_prompts = [p for p, options in zip(prompts, choices, strict=True) for _ in options]
    pair_choices = [c for options in choices for c in options]
    sums = np.array([lp.sum() for lp in response_logprobs(backend, pair_prompts, pair_choices)])
    bounds = np.cumsum([0, *(len(options) for options in choices)])
    per_item = [sums[bounds[i] : bounds[i + 1]].astype(np.float64) for i in range(len(choices))]
    sizes = [np.array([len(c.encode("utf-8")) for c in options], dtype=np.float64) for options in choices]
    predicted = np.array([int(np.argmax(s)) for s in per_item], dtype=np.int64)
    predicted_norm = np.array(
        [int(np.argmax(s / np.maximum(b, 1.0))) for s, b in zip(per_item, sizes, strict=True)], dtype=np.int64
    )
    answers = np.asarray(correct, dtype=np.int64)
    is_correct, is_correct_norm = predicted == answers, predicted_norm == answers
    return ChoiceResult(
        choice_logprobs=per_item,
        choice_bytes=sizes,
        predicted=predicted,
        predicted_norm=predicted_norm,
        is_correct=is_correct,
        is_correct_norm=is_correct_norm,
        accuracy=float(is_correct.mean()) if len(answers) else float("nan"),
        accuracy_norm=float(is_correct_norm.mean()) if len(answers) else float("nan"),
    )
