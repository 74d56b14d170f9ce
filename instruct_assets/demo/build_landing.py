"""Build the demo landing directory: three sources in three formats from real ShareGPT data.

- demo_sharegpt/part-000.jsonl     ShareGPT records exactly as shared (multi-turn, some split mid-way)
- demo_alpaca/part-000.jsonl.gz    first exchanges of other conversations as alpaca records
- demo_openai/part-000.parquet     other conversations as OpenAI chat messages
Some conversations appear in two sources (a cross-source duplicate shares its sample_id), each source
gets a few deliberately malformed rows so ingestion, quarantine and accounting have something to show,
and demo_alpaca carries a few HumanEval problems of the held-out eval split as instructions (planted
benchmark leaks, labelled `planted-leak-*`) for decontamination to catch.
"""

import gzip
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from instruct_assets.benchmarks.loaders import split_of
from instruct_assets.demo.packaged_data import iter_human_eval_problems, iter_sharegpt_conversations

PROFILE_MARKER = ".demo-profile"


@dataclass(frozen=True)
class DemoProfile:
    sharegpt_rows: int
    alpaca_rows: int
    openai_rows: int
    shared_rows: int  # conversations placed in both demo_alpaca and demo_openai


PROFILES = {
    "demo": DemoProfile(sharegpt_rows=1_200, alpaca_rows=800, openai_rows=800, shared_rows=40),
    "small": DemoProfile(sharegpt_rows=120, alpaca_rows=80, openai_rows=80, shared_rows=8),
    "full": DemoProfile(sharegpt_rows=6_000, alpaca_rows=4_500, openai_rows=4_500, shared_rows=300),
}
ROLE_TO_OPENAI = {"human": "user", "gpt": "assistant", "system": "system"}


def _opens_with_exchange(record: dict) -> bool:
    turns = record["conversations"]
    return (
        len(turns) >= 2
        and turns[0]["from"] == "human"
        and turns[1]["from"] == "gpt"
        and all(t["from"] in ROLE_TO_OPENAI for t in turns)
    )


def _alpaca(record: dict) -> dict:
    first, second = record["conversations"][:2]
    return {"instruction": first["value"], "input": "", "output": second["value"], "id": record["id"]}


def _openai(record: dict) -> dict:
    messages = [{"role": ROLE_TO_OPENAI[t["from"]], "content": t["value"]} for t in record["conversations"]]
    return {"id": record["id"], "messages": messages}


def _openai_first_exchange(record: dict) -> dict:
    return {"id": record["id"], "messages": _openai(record)["messages"][:2]}


PLANTED_LEAKS = 3


def _planted_leaks(count: int) -> list[dict]:
    """HumanEval eval-split problems asked as alpaca instructions, answered with their solution."""
    problems = (p for p in iter_human_eval_problems() if split_of("humaneval", p["task_id"], 0.5) == "eval")
    return [
        {
            "id": f"planted-leak-{i}",
            "instruction": "Complete this Python function.",
            "input": problem["prompt"],
            "output": problem["prompt"] + problem["canonical_solution"],
        }
        for i, problem in zip(range(count), problems, strict=False)
    ]


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def build_demo_landing(landing_dir: Path, profile_name: str = "demo") -> dict[str, int]:
    """Write the demo sources under `landing_dir` (kept as is if already built with this profile).

    Returns rows written per source, malformed rows included.
    """
    profile = PROFILES[profile_name]
    marker = landing_dir / PROFILE_MARKER
    names = ("demo_sharegpt", "demo_alpaca", "demo_openai")
    if (
        marker.is_file()
        and marker.read_text() == profile_name
        and all((landing_dir / n).is_dir() for n in names)
    ):
        return json.loads((landing_dir / ".demo-rows.json").read_text())

    need = profile.sharegpt_rows + profile.alpaca_rows + profile.openai_rows
    sharegpt, exchanges = [], []
    for record in iter_sharegpt_conversations():
        if len(sharegpt) < profile.sharegpt_rows:
            sharegpt.append(record)
        elif _opens_with_exchange(record):
            exchanges.append(record)
        if len(sharegpt) + len(exchanges) >= need:
            break
    alpaca = exchanges[: profile.alpaca_rows]
    openai = exchanges[profile.alpaca_rows : profile.alpaca_rows + profile.openai_rows]

    sharegpt_bytes = _jsonl(sharegpt) + b"".join(
        [
            b'{"id": "broken-1", "conversations": [{"from": "human", "value": "cut off mid-re\n',
            '{"id": "latin1-1", "conversations": [{"from": "human", "value": "caf\xe9?"}]}\n'.encode(
                "latin-1"
            ),
            _jsonl(
                [
                    {
                        "id": "robot-1",
                        "conversations": [
                            {"from": "human", "value": "hi"},
                            {"from": "robot", "value": "beep"},
                        ],
                    }
                ]
            ),
        ]
    )
    alpaca_records = [_alpaca(r) for r in alpaca] + [
        {"id": "no-output-1", "instruction": "Write a haiku about rain."},
        {"id": "empty-output-1", "instruction": "Summarize the text.", "input": "Some text.", "output": "  "},
        _alpaca(alpaca[0]),  # an exact duplicate inside the source
        *_planted_leaks(PLANTED_LEAKS),
    ]
    # The same first exchange in both alpaca and openai: one sample_id, for cross-source dedup downstream.
    shared = [_openai_first_exchange(r) for r in alpaca[: profile.shared_rows]]
    openai_records = (
        [_openai(r) for r in openai]
        + shared
        + [
            {
                "id": "tool-1",
                "messages": [{"role": "user", "content": "2+2?"}, {"role": "tool", "content": "4"}],
            },
            {"id": "no-user-1", "messages": [{"role": "assistant", "content": "Hello, how can I help?"}]},
        ]
    )

    staging = landing_dir / ".demo-building"
    shutil.rmtree(staging, ignore_errors=True)
    for name in names:
        (staging / name).mkdir(parents=True)
    (staging / "demo_sharegpt" / "part-000.jsonl").write_bytes(sharegpt_bytes)
    (staging / "demo_alpaca" / "part-000.jsonl.gz").write_bytes(
        gzip.compress(_jsonl(alpaca_records), mtime=0)
    )
    pl.DataFrame(openai_records).write_parquet(staging / "demo_openai" / "part-000.parquet")
    rows = {
        "demo_sharegpt": len(sharegpt) + 3,
        "demo_alpaca": len(alpaca_records),
        "demo_openai": len(openai_records),
    }
    # Each source appears whole or not at all: the landing sensor ignores dot-folders until the rename.
    for name in names:
        shutil.rmtree(landing_dir / name, ignore_errors=True)
        (staging / name).rename(landing_dir / name)
    staging.rmdir()
    (landing_dir / ".demo-rows.json").write_text(json.dumps(rows))
    marker.write_text(profile_name)
    return rows
