"""Multiple-choice options for a whole-number answer: the answer and three nearby wrong numbers.

The synthetic math set has free-form answers; a 135M model rarely derives them by generation, so its
accuracy over four options ranked by log-likelihood is the signal that moves during fine-tuning. The
distractors are near misses of the kinds a worked solution produces (off by one, two, five or ten; about
10% off; double or half), never negative, and depend only on (item id, answer).
"""

import random

CHOICES_PER_ITEM = 4


def answer_sentence(number: int) -> str:
    """The form every option takes, e.g. "The answer is 42.": options differ only in their number."""
    return f"The answer is {number}."


def near_misses(answer: int) -> list[int]:
    """Whole numbers near `answer`, ascending, distinct, non-negative, without `answer` (at least four)."""
    offsets = {1, 2, 5, 10, max(1, round(abs(answer) * 0.1))}
    candidates = {answer + d for d in offsets} | {answer - d for d in offsets} | {2 * answer}
    if answer % 2 == 0:
        candidates.add(answer // 2)
    return sorted(c for c in candidates if c >= 0 and c != answer)


def answer_choices(item_id: str, answer: int) -> tuple[tuple[str, ...], int]:
    """(four option sentences, index of the right one): three distinct near misses drawn and the four
    shuffled by a generator seeded with the item id, so the same item gets the same options in any run."""
    rng = random.Random(f"math-choices:{item_id}:{answer}")
    numbers = [answer, *rng.sample(near_misses(answer), CHOICES_PER_ITEM - 1)]
    rng.shuffle(numbers)
    return tuple(answer_sentence(n) for n in numbers), numbers.index(answer)
