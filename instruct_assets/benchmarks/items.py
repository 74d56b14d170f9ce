"""What a benchmark item is: the text that curation matches against, and the fields evaluation asks with.

`text` is what DSIR fits on and decontamination compares (question and answer as one string). The
evaluation fields split it into what the model is asked (`prompt`) and what a good answer is
(`reference`), plus, where the benchmark has them, answer `choices` with the index of the right one and a
short `answer` that exact match compares a generation to.
"""

from dataclasses import dataclass

import polars as pl

BENCHMARK_ITEMS_SCHEMA = pl.Schema(
    {
        "benchmark": pl.String,
        "domain": pl.String,
        "item_id": pl.String,
        "split": pl.String,
        "text": pl.String,
        "origin": pl.String,
        "prompt": pl.String,
        "reference": pl.String,
        "choices": pl.List(pl.String),
        "correct_choice": pl.Int64,
        "answer": pl.String,
    }
)


class BenchmarkFileError(ValueError):
    """A benchmark's items are unusable; the message names the file, the line and the reason."""


@dataclass(frozen=True)
class BenchmarkItem:
    """One item as a loader reads it.

    Guarantees (checked by `load_benchmark_items`): `text` and `prompt` are not blank; `choices` and
    `correct_choice` are both None or both set, with at least two distinct choices and
    0 <= correct_choice < len(choices). `reference` may be "" (the benchmark has no reference answer:
    dev loss skips the item).
    """

    item_id: str
    text: str
    prompt: str
    reference: str
    choices: tuple[str, ...] | None = None
    correct_choice: int | None = None
    answer: str | None = None

    def problem(self) -> str | None:
        """What is wrong with the item, or None."""
        if not self.text.strip():
            return "it has no text"
        if not self.prompt.strip():
            return "it has no prompt"
        if (self.choices is None) != (self.correct_choice is None):
            return "choices and correct_choice must be given together"
        if self.choices is not None:
            if len(self.choices) < 2 or len(set(self.choices)) != len(self.choices):
                return f"it needs at least two distinct choices (got {list(self.choices)})"
            if not 0 <= self.correct_choice < len(self.choices):
                return (
                    f"correct_choice {self.correct_choice} is not an index of its {len(self.choices)} choices"
                )
        return None
