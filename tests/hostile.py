"""The hostile corpus in tests/data/hostile/ and helpers that build the parts too big to commit."""

import json
from pathlib import Path

HOSTILE_DIR = Path(__file__).parent / "data" / "hostile"
EXPECTED = json.loads((HOSTILE_DIR / "expected.json").read_text(encoding="utf-8"))
GIANT_LINE_BYTES = 10 * 2**20


def giant_line_file(path: Path) -> Path:
    """A JSONL file with a 10 MB line between two good lines."""
    good = json.dumps(
        {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    )
    other = good.replace("hello", "hello again")
    giant = json.dumps({"conversations": [{"from": "human", "value": "x" * GIANT_LINE_BYTES}]})
    path.write_text(f"{good}\n{giant}\n{other}\n", encoding="utf-8")
    return path
