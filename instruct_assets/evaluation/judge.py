"""An LLM judge that rates an answer against a reference from 1 to 5, as an expected score (G-Eval style).

The judge reads the rendered template (`resources/prompts/judge.txt`) as a user turn. Instead of sampling
one digit, each candidate reply "1".."5" is scored with the judge's response log-probs, and

    p(k) = p(reply is exactly "k" | prompt) / sum_j p(reply is exactly "j" | prompt)
    score = sum_k k * p(k)                       in [1, 5], continuous, deterministic

"Exactly k" is the digit followed by the chat template's end-of-turn token, since the encoder's response
ids always end with it; the backend interface has no way to score the digit alone. The end-of-turn factor
p(<|im_end|> | k) rewards a judge that would stop after the digit, as the template asks it to, and is
close to 1 for a judge that follows the instruction. Renormalising over the five replies ignores
whatever else the judge might have said.
"""

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from instruct_assets.evaluation.exchanges import response_logprobs
from instruct_assets.models.llm_backend import LLMBackend
from instruct_assets.paths import RESOURCES_DIR

JUDGE_TEMPLATE_FILE = RESOURCES_DIR / "prompts" / "judge.txt"
PLACEHOLDERS = ("question", "reference", "answer")
SCORES = np.arange(1, 6, dtype=np.float64)
_PLACEHOLDER = re.compile(r"\{(question|reference|answer)\}")


def load_judge_template(path: Path = JUDGE_TEMPLATE_FILE) -> str:
    """The judge prompt template in `path`. Raises ValueError naming the file when it lacks one of the
    placeholders {question}, {reference}, {answer}."""
    template = Path(path).read_text(encoding="utf-8")
    missing = [name for name in PLACEHOLDERS if "{" + name + "}" not in template]
    if missing:
        raise ValueError(
            f"{path}: the judge template lacks {', '.join('{' + m + '}' for m in missing)}; "
            "it must contain {question}, {reference} and {answer}"
        )
    return template


def render_judge_prompt(template: str, question: str, answer: str, reference: str) -> str:
    """The template with its placeholders filled in one pass: braces inside the texts (code, JSON, or a
    literal "{answer}") are kept as they are, never re-substituted."""
    values = {"question": question, "reference": reference, "answer": answer}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def judge_distribution(
    judge_backend: LLMBackend,
    questions: Sequence[str],
    answers: Sequence[str],
    references: Sequence[str],
    template: str,
) -> np.ndarray:
    """(n, 5) float64: the judge's probability of replying exactly 1..5, renormalised over the five;
    rows sum to 1. All 5n replies are scored in one batched backend call."""
    if not len(questions) == len(answers) == len(references):
        raise ValueError(f"{len(questions)} questions, {len(answers)} answers, {len(references)} references")
    if not questions:
        return np.zeros((0, len(SCORES)))
    prompts = [
        render_judge_prompt(template, q, a, r) for q, a, r in zip(questions, answers, references, strict=True)
    ]
    replies = [str(int(k)) for k in SCORES]
    logprobs = response_logprobs(
        judge_backend, [p for p in prompts for _ in replies], [k for _ in prompts for k in replies]
    )
    totals = np.array([lp.sum() for lp in logprobs], dtype=np.float64).reshape(len(prompts), len(replies))
    weights = np.exp(totals - totals.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def judge_scores(
    judge_backend: LLMBackend,
    questions: Sequence[str],
    answers: Sequence[str],
    references: Sequence[str],
    template: str,
) -> np.ndarray:
    """(n,) float64 expected judge score of each answer, in [1, 5]."""
    expected = judge_distribution(judge_backend, questions, answers, references, template) @ SCORES
    return np.clip(expected, SCORES[0], SCORES[-1])  # rounding must not leave [1, 5]
