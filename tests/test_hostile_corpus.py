"""The hostile corpus: every bad row is quarantined with the right reason and no good row is lost."""

from collections import Counter

import pytest

from instruct_assets.ingest.source_ingest import IngestSettings
from tests.conftest import ingest_files
from tests.hostile import EXPECTED, GIANT_LINE_BYTES, HOSTILE_DIR, giant_line_file


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file_is_accounted_for_row_by_row(tmp_path, name):
    expected = EXPECTED[name]
    kept, quarantined, stats = ingest_files(tmp_path, [HOSTILE_DIR / name])
    reasons = Counter(quarantined["reason"].to_list())
    assert kept.height == expected["kept"]
    if "quarantined" in expected:
        assert reasons == Counter(expected["quarantined"])
    for reason, at_least in expected.get("quarantined_at_least", {}).items():
        assert reasons[reason] >= at_least
    assert stats.rows_read == kept.height + quarantined.height
    assert kept["sample_id"].n_unique() == kept.height
    # Every quarantined row says where it came from and keeps what could be read of it.
    assert quarantined["source_ref"].struct.field("file").to_list() == [name] * quarantined.height
    assert quarantined["detail"].null_count() == 0


def test_the_whole_corpus_as_one_source_loses_nothing(tmp_path):
    files = sorted(p for p in HOSTILE_DIR.iterdir() if p.name in EXPECTED)
    kept, quarantined, stats = ingest_files(tmp_path, files)
    assert stats.rows_read == kept.height + quarantined.height > 0
    assert kept["sample_id"].n_unique() == kept.height


def test_a_10mb_line_is_quarantined_as_oversize_and_its_neighbours_kept(tmp_path):
    path = giant_line_file(tmp_path / "giant.jsonl")
    settings = IngestSettings(max_row_bytes=2_000_000, chunk_bytes=2**20)
    kept, quarantined, _ = ingest_files(tmp_path, [path], settings)
    assert kept["response"].to_list() == ["hello", "hello again"]
    assert quarantined["reason"].to_list() == ["oversize"]
    assert quarantined["source_ref"][0] == {"file": "giant.jsonl", "row": 2}
    assert quarantined["raw_bytes"][0] > GIANT_LINE_BYTES
    assert len(quarantined["raw"][0]) <= settings.quarantine_raw_chars


def test_invalid_utf8_keeps_a_readable_copy_of_the_bytes(tmp_path):
    _, quarantined, _ = ingest_files(tmp_path, [HOSTILE_DIR / "invalid_utf8.jsonl"])
    assert "Caf\\xe9" in quarantined["raw"][0]
    assert quarantined["source_ref"][0]["row"] == 2


def test_cut_gzip_keeps_every_whole_row_before_the_cut(tmp_path):
    kept, quarantined, _ = ingest_files(tmp_path, [HOSTILE_DIR / "cut.jsonl.gz"])
    cut = quarantined.filter(quarantined["reason"] == "truncated_gzip")
    assert cut.height == 1
    # The cut is recorded after the last whole row read, so the rows before it are all accounted for.
    assert cut["source_ref"][0]["row"] == kept.height + quarantined.height
