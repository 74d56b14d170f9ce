"""Each input format and container is read into the same canonical samples."""

import gzip
import hashlib
import json

import polars as pl
import pytest

from instruct_assets.ingest.formats import Format
from instruct_assets.ingest.source_ingest import IngestSettings, SourceIngestor
from tests.conftest import ingest_files, write_jsonl


def as_alpaca(record: dict) -> dict:
    first, second = record["conversations"][:2]
    return {"instruction": first["value"], "input": "", "output": second["value"], "id": record["id"]}


def as_openai(record: dict) -> dict:
    roles = {"human": "user", "gpt": "assistant"}
    return {"messages": [{"role": roles[t["from"]], "content": t["value"]} for t in record["conversations"]]}


def first_exchange(record: dict) -> dict:
    return {"id": record["id"], "conversations": record["conversations"][:2]}


def expected_sample_id(messages: list[tuple[str, str]]) -> str:
    canonical = "\x1e".join(f"{role}\x1f{content}" for role, content in messages)
    return hashlib.md5(canonical.encode("utf-8")).hexdigest()


def test_sharegpt_jsonl_keeps_every_turn_and_points_at_its_line(tmp_path, real_conversations):
    path = write_jsonl(tmp_path / "chat.jsonl", real_conversations)
    kept, quarantined, stats = ingest_files(tmp_path, [path])
    assert quarantined.height == 0
    assert kept.height == len(real_conversations) == stats.rows_read
    row = kept.row(7, named=True)
    source_turns = real_conversations[7]["conversations"]
    assert row["source_ref"] == {"file": "chat.jsonl", "row": 8}
    assert [m["content"] for m in row["messages"]] == [t["value"].strip() for t in source_turns]
    assert row["prompt"] == source_turns[0]["value"].strip()
    assert row["response"] == source_turns[1]["value"].strip()
    assert row["turns"] == sum(t["from"] == "gpt" for t in source_turns)
    assert json.loads(row["meta"]) == {"id": real_conversations[7]["id"]}
    assert row["format"] == "sharegpt"


def test_same_conversation_gets_one_sample_id_in_every_format_and_container(tmp_path, real_conversations):
    records = [first_exchange(r) for r in real_conversations[:20]]
    sharegpt = write_jsonl(tmp_path / "a.jsonl", records)
    alpaca_gz = tmp_path / "b.jsonl.gz"
    alpaca_gz.write_bytes(gzip.compress("".join(json.dumps(as_alpaca(r)) + "\n" for r in records).encode()))
    openai_parquet = tmp_path / "c.parquet"
    pl.DataFrame([as_openai(r) for r in records]).write_parquet(openai_parquet)

    ids = {}
    for path in (sharegpt, alpaca_gz, openai_parquet):
        out = tmp_path / path.stem.replace(".", "_")
        out.mkdir()
        kept, quarantined, _ = ingest_files(out, [path])
        assert quarantined.height == 0, quarantined.to_dicts()
        ids[path.name] = kept["sample_id"].to_list()
    assert ids["a.jsonl"] == ids["b.jsonl.gz"] == ids["c.parquet"]
    first = records[0]["conversations"]
    assert ids["a.jsonl"][0] == expected_sample_id(
        [("user", first[0]["value"].strip()), ("assistant", first[1]["value"].strip())]
    )


def test_alpaca_input_joins_the_instruction_with_a_blank_line(tmp_path):
    path = write_jsonl(
        tmp_path / "alpaca.jsonl",
        [
            {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"},
            {"instruction": "Name a colour.", "output": "Blue", "system": "Be brief."},
        ],
    )
    kept, _, _ = ingest_files(tmp_path, [path])
    assert kept["prompt"].to_list() == ["Translate to French.\n\nGood morning", "Name a colour."]
    assert kept["messages"][1].to_list()[0] == {"role": "system", "content": "Be brief."}
    assert kept["format"].to_list() == ["alpaca", "alpaca"]


def test_declared_format_overrides_detection(tmp_path):
    # Rows carry both signatures; the sources file decides which one is meant.
    record = {
        "instruction": "Say hi.",
        "output": "Hi.",
        "messages": [{"role": "user", "content": "Say bye."}, {"role": "assistant", "content": "Bye."}],
    }
    path = write_jsonl(tmp_path / "both.jsonl", [record])
    with SourceIngestor("s", tmp_path / "k.parquet", tmp_path / "q.parquet", IngestSettings()) as ingestor:
        ingestor.ingest_file(path, path.name, Format.ALPACA)
    assert pl.read_parquet(tmp_path / "k.parquet")["prompt"].to_list() == ["Say hi."]


def test_role_aliases_are_configurable(tmp_path):
    record = {"conversations": [{"from": "Prompter", "value": "hi"}, {"from": "Bot", "value": "hello"}]}
    path = write_jsonl(tmp_path / "odd_roles.jsonl", [record])
    _, quarantined, _ = ingest_files(tmp_path, [path])
    assert quarantined["reason"].to_list() == ["unknown_role"]
    aliases = {**IngestSettings().role_aliases, "prompter": "user", "bot": "assistant"}
    (tmp_path / "again").mkdir()
    kept, _, _ = ingest_files(tmp_path / "again", [path], IngestSettings(role_aliases=aliases))
    assert [m["role"] for m in kept["messages"][0]] == ["user", "assistant"]


@pytest.mark.parametrize("chunk_bytes", [256, 4096, 32 * 2**20])
def test_chunk_size_does_not_change_the_result(tmp_path, real_conversations, chunk_bytes):
    records = real_conversations[:30] + real_conversations[:5]  # duplicates across chunk borders
    path = write_jsonl(tmp_path / "chat.jsonl", records)
    kept, quarantined, stats = ingest_files(tmp_path, [path], IngestSettings(chunk_bytes=chunk_bytes))
    assert kept.height == 30
    assert quarantined["reason"].to_list() == ["duplicate"] * 5
    assert quarantined["detail"][0] == "same conversation as chat.jsonl row 1"
    assert stats.rows_read == 35


def test_openai_content_parts_are_joined_and_non_text_parts_quarantined(tmp_path):
    parts = [{"type": "text", "text": "Describe"}, {"type": "text", "text": "this."}]
    image = [{"type": "text", "text": "What is in"}, {"type": "image_url", "image_url": {"url": "x"}}]
    path = write_jsonl(
        tmp_path / "parts.jsonl",
        [
            {"messages": [{"role": "user", "content": parts}, {"role": "assistant", "content": "A cat."}]},
            {"messages": [{"role": "user", "content": image}, {"role": "assistant", "content": "A dog."}]},
        ],
    )
    kept, quarantined, _ = ingest_files(tmp_path, [path])
    assert kept["prompt"].to_list() == ["Describe\nthis."]
    assert quarantined["reason"].to_list() == ["missing_field"]
    assert quarantined["source_ref"][0]["row"] == 2


def test_a_nul_character_is_quarantined_not_truncated(tmp_path):
    record = {"conversations": [{"from": "human", "value": "a\u0000b"}, {"from": "gpt", "value": "ok"}]}
    path = tmp_path / "nul.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    kept, quarantined, _ = ingest_files(tmp_path, [path])
    assert kept.height == 0
    assert quarantined["reason"].to_list() == ["nul_character"]
