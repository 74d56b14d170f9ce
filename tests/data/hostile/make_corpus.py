"""Write the hostile corpus in this folder (run once; the files are committed).

Each file is one kind of damage real instruction dumps show. `expected.json` says, per file, how many
rows must be kept and which quarantine reasons must appear with what count. The 10 MB line is not
committed: tests build it on the fly with `giant_line_file()` from tests/hostile.py.
"""

import gzip
import json
from pathlib import Path

HERE = Path(__file__).parent


def conv(prompt: str, answer: str, **extra) -> str:
    turns = [{"from": "human", "value": prompt}, {"from": "gpt", "value": answer}]
    return json.dumps({"conversations": turns, **extra}, ensure_ascii=False)


GOOD = [
    conv(f"Question {i}: what is {i} + {i}?", f"The answer is {2 * i}.", id=f"good-{i}") for i in range(6)
]


def write() -> dict:
    expected = {}

    # Truncated JSON: the dump was cut mid-record (the last line has no newline either).
    (HERE / "truncated_json.jsonl").write_text("\n".join(GOOD[:3]) + "\n" + GOOD[3][:40], encoding="utf-8")
    expected["truncated_json.jsonl"] = {"kept": 3, "quarantined": {"invalid_json": 1}}

    # Invalid UTF-8 in one line (Latin-1 bytes), valid lines around it.
    bad = conv("Caf\u00e9 au lait?", "Oui.").encode("utf-8").replace("\u00e9".encode(), b"\xe9")
    (HERE / "invalid_utf8.jsonl").write_bytes(b"\n".join([GOOD[0].encode(), bad, GOOD[1].encode()]) + b"\n")
    expected["invalid_utf8.jsonl"] = {"kept": 2, "quarantined": {"invalid_utf8": 1}}

    # An empty file: no rows, nothing quarantined, no error.
    (HERE / "empty.jsonl").write_bytes(b"")
    expected["empty.jsonl"] = {"kept": 0, "quarantined": {}}

    # Wrong schema: valid JSON objects of no known format (a pretraining dump dropped in by mistake).
    (HERE / "wrong_schema.jsonl").write_text(
        "\n".join(json.dumps({"text": f"document {i}", "url": "x"}) for i in range(4)) + "\n",
        encoding="utf-8",
    )
    expected["wrong_schema.jsonl"] = {"kept": 0, "quarantined": {"unknown_format": 4}}

    # A UTF-8 byte-order mark before the first record, and Windows line endings throughout.
    (HERE / "bom_crlf.jsonl").write_bytes(("\ufeff" + "\r\n".join(GOOD[:4]) + "\r\n").encode("utf-8"))
    expected["bom_crlf.jsonl"] = {"kept": 4, "quarantined": {}}

    # Duplicate rows: the same conversation three times (ids differ, which must not matter), blank lines.
    dup = [GOOD[0], conv("Question 0: what is 0 + 0?", "The answer is 0.", id="copy"), "", GOOD[0], GOOD[1]]
    (HERE / "duplicates.jsonl").write_text("\n".join(dup) + "\n\n", encoding="utf-8")
    expected["duplicates.jsonl"] = {"kept": 2, "quarantined": {"duplicate": 2}}

    # A gzip that ends early: the upload was cut; what decompresses is kept, the cut is recorded.
    body = ("\n".join(GOOD * 50) + "\n").encode("utf-8")
    compressed = gzip.compress(body, mtime=0)
    (HERE / "cut.jsonl.gz").write_bytes(compressed[: len(compressed) * 2 // 3])
    expected["cut.jsonl.gz"] = {"kept": 6, "quarantined_at_least": {"truncated_gzip": 1, "duplicate": 1}}

    # Turn-level damage: empty answers, unknown roles, no user turn, non-object lines, wrong types.
    rows = [
        GOOD[2],
        conv("Say something.", "   "),
        json.dumps({"conversations": [{"from": "human", "value": "hi"}, {"from": "wizard", "value": "boo"}]}),
        json.dumps({"conversations": [{"from": "gpt", "value": "I start."}]}),
        json.dumps({"conversations": [{"from": "human", "value": "Only a question?"}]}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"conversations": "a string"}),
        json.dumps({"conversations": []}),
        json.dumps(
            {
                "conversations": [
                    {"from": "human", "value": "q"},
                    {"from": "gpt", "value": "a"},
                    {"from": "human", "value": ""},
                    {"from": "gpt", "value": "b"},
                ]
            }
        ),
        json.dumps({"conversations": [{"from": "human"}, {"from": "gpt", "value": "a"}]}),
    ]
    (HERE / "bad_turns.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    expected["bad_turns.jsonl"] = {
        "kept": 1,
        "quarantined": {
            "empty_response": 1,
            "unknown_role": 1,
            "no_prompt": 1,
            "no_response": 1,
            "not_an_object": 1,
            "wrong_type": 1,
            "empty_conversation": 1,
            "empty_turn": 1,
            "missing_field": 1,
        },
    }

    # Not Parquet at all, under a .parquet name.
    (HERE / "corrupt.parquet").write_bytes(b"PAR1 this is not a parquet file PAR1")
    expected["corrupt.parquet"] = {"kept": 0, "quarantined": {"unreadable_file": 1}}

    (HERE / "expected.json").write_text(
        json.dumps(expected, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return expected


if __name__ == "__main__":
    write()
