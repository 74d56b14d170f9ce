"""Exact match: the checkpoint answers by greedy generation, and its answer is compared to the reference's.

An answer with a number in it (math) is compared by the last number of the generation, as GSM8K
evaluations do ("... so the total is $1,200." matches "1200"); any other answer by its normalised text
(case, surrounding whitespace and a final period ignored) against the whole generation.
"""

import re
from collections.abc import Sequence

import numpy as np

from instruct_assets.models.llm_backend import LLMBackend

# A number not glued to a word or another number ("H2O", the 5 of "3-5" is positive), with thousands
# separators only in groups of three ("1,2,3" is three numbers).
NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def final_number(text: str) -> str | None:
    """The last number in `text`, canonical: commas removed, trailing decimal zeros and point dropped,
    "-0" as "0". "#### 42" -> "42", "$1,200.00" -> "1200", "-3" -> "-3", "2.50" -> "2.5"; None without one."""
    found = NUMBER.findall(text)
    if not found:
        return None
    number = found[-1].replace(",", "")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return "0" if number == "-0" else number


def normalised_text(text: str) -> str:
    return " ".join(text.split()).casefold().removesuffix(".")


def is_exact_match(generation: str, answer: str) -> bool:
    """True when the generation gives the answer: the same final number when the answer has a number,
    else the same normalised text."""
    expected = final_number(answer)
    if expected is not None:
        return final_number(generation) == expected
    return normalised_text(generation) == normalised_text(answer)


def exact_match(
    backend: LLMBackend, prompts: Sequence[str], answers: Sequence[str], max_new_tokens: int = 256
) -> tuple[list[str], np.ndarray]:
    """(greedy generations, np.bool_ matches), one per prompt, asked as a single user turn. A generation
    cut off by `max_new_tokens` is judged as it stands."""
    if len(prompts) != len(answers):
        raise ValueError(f"{len(prompts)} prompts but {len(answers)} answers")
    if not prompts:
        return [], np.zeros(0, dtype=np.bool_)
    conversations = [[{"role": "user", "content": p}] for p in prompts]
    generations = backend.generate(conversations, max_new_tokens=max_new_tokens, temperature=0.0)
    matches = np.array(
        [is_exact_match(g, a) for g, a in zip(generations, answers, strict=True)], dtype=np.bool_
    )
    return list(generations), matches
