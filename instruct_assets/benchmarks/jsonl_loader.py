"""A user's benchmark file (.jsonl or .jsonl.gz) as items: which fields hold what is declared per benchmark
in the catalog (`text_fields`, `id_field`, and the optional evaluation fields)."""

import gzip
import json
import string
from collections.abc import Iterator
from typing import Any

from instruct_assets.benchmarks.catalog import BenchmarkSpec
from instruct_assets.benchmarks.items import BenchmarkFileError, BenchmarkItem


def load_jsonl(spec: BenchmarkSpec) -> Iterator[BenchmarkItem]:
    """One item per record: id field; text fields joined with newlines; evaluation fields as declared.

    A text field may hold a string, a number, or a list of them (joined with newlines, e.g. answer
    choices). Blank lines are skipped. Without `prompt_field` the prompt is the text and the reference is
    "" (dev loss skips such items). Raises BenchmarkFileError, naming the file and line, for invalid
    JSON, a record that is not an object, a missing or empty id, text or evaluation field, a repeated id,
    fewer than two distinct choices, or an answer that names no choice.
    """
    path = spec.path
    assert path is not None, "the catalog guarantees a path for the jsonl loader"
    if not path.is_file():
        raise BenchmarkFileError(
            f"{path}: file not found (benchmark {spec.name!r}); fix `path` in the benchmarks file "
            "(relative paths are taken from the project root)"
        )
    first_line_of: dict[str, int] = {}
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise BenchmarkFileError(
                    f"{where}: not valid JSON ({error.msg}); one JSON object per line"
                ) from None
            if not isinstance(record, dict):
                raise BenchmarkFileError(f"{where}: expected a JSON object, got {type(record).__name__}")
            item_id = _id_of(where, record, spec.id_field or "")
            if item_id in first_line_of:
                raise BenchmarkFileError(
                    f"{where}: {spec.id_field} {item_id!r} already used on line {first_line_of[item_id]}; "
                    "ids must be unique within a benchmark"
                )
            first_line_of[item_id] = number
            text = "\n".join(_text_of(where, record, field) for field in spec.text_fields)
            if not text.strip():
                raise BenchmarkFileError(f"{where}: the text fields {list(spec.text_fields)} are all empty")
            yield _item_of(where, record, spec, item_id, text)


def _item_of(
    where: str, record: dict[str, Any], spec: BenchmarkSpec, item_id: str, text: str
) -> BenchmarkItem:
    if spec.prompt_field is None:
        return BenchmarkItem(item_id, text, prompt=text, reference="")
    prompt = _text_of(where, record, spec.prompt_field)
    if not prompt.strip():
        raise BenchmarkFileError(f"{where}: prompt field {spec.prompt_field!r} is empty")
    choices = correct = answer = None
    if spec.choices_field is not None:
        choices = _choices_of(where, record, spec.choices_field)
        correct = _choice_index(where, record, spec.answer_field or "", choices)
    elif spec.answer_field is not None:
        answer = _text_of(where, record, spec.answer_field).strip()
        if not answer:
            raise BenchmarkFileError(f"{where}: answer field {spec.answer_field!r} is empty")
    if spec.reference_field is not None:
        reference = _text_of(where, record, spec.reference_field)
    else:  # the right choice, else the short answer, else none
        reference = choices[correct] if choices is not None else (answer or "")
    return BenchmarkItem(item_id, text, prompt, reference, choices, correct, answer)


def _id_of(where: str, record: dict[str, Any], id_field: str) -> str:
    value = record.get(id_field)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise BenchmarkFileError(
            f"{where}: id field {id_field!r} is missing or not a non-empty string/integer"
        )
    return str(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _text_of(where: str, record: dict[str, Any], field: str) -> str:
    value = record.get(field)
    parts = value if isinstance(value, list) else [value]
    if value is None or not all(_is_scalar(p) for p in parts):
        raise BenchmarkFileError(
            f"{where}: text field {field!r} is missing or not a string, number or list of them "
            f"(fields present: {', '.join(sorted(record))})"
        )
    return "\n".join(str(p) for p in parts)


def _choices_of(where: str, record: dict[str, Any], field: str) -> tuple[str, ...]:
    value = record.get(field)
    if not isinstance(value, list) or not all(_is_scalar(c) and str(c).strip() for c in value):
        raise BenchmarkFileError(
            f"{where}: choices field {field!r} must be a list of non-empty strings or numbers (got {value!r})"
        )
    choices = tuple(str(c) for c in value)
    if len(choices) < 2 or len(set(choices)) != len(choices):
        raise BenchmarkFileError(
            f"{where}: choices field {field!r} needs at least two distinct choices (got {list(choices)})"
        )
    return choices


def _choice_index(where: str, record: dict[str, Any], field: str, choices: tuple[str, ...]) -> int:
    """The right choice, named by a letter (A = the first), a 0-based index, or the choice's text."""
    value = record.get(field)
    letters = string.ascii_uppercase[: len(choices)]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(choices):
        return value
    if isinstance(value, str):
        if len(value) == 1 and value in letters:
            return letters.index(value)
        if value in choices:
            return choices.index(value)
    raise BenchmarkFileError(
        f"{where}: answer field {field!r} is {value!r}, which names none of the {len(choices)} choices; "
        f"use a letter {letters[0]}-{letters[-1]}, a 0-based index below {len(choices)}, "
        "or the text of one choice"
    )
