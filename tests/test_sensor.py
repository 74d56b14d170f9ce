"""landing_sensor against a real landing directory."""

import dagster as dg
import pytest

from instruct_assets.defs.ingest.sensors import landing_sensor
from tests.conftest import write_jsonl
from tests.dagster_env import make_env


@pytest.fixture
def env(tmp_path, monkeypatch):
    with dg.instance_for_test() as instance:
        yield make_env(tmp_path / "data", instance, monkeypatch)


def tick(env, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=env.instance, cursor=cursor, resources=env.resources) as context:
        return landing_sensor(context)


def added_partitions(result: dg.SensorResult) -> list[str]:
    return [key for request in result.dynamic_partitions_requests for key in request.partition_keys]


def test_new_sources_become_partitions_and_get_a_run_each(env, tmp_path, real_conversations):
    env.add_source("chat", write_jsonl(tmp_path / "a.jsonl", real_conversations[:3]))
    write_jsonl(env.landing / "single_file.jsonl", real_conversations[3:5])  # a file is a source too
    (env.landing / ".uploading").mkdir()  # hidden: still being written, not a source yet

    result = tick(env, cursor=None)
    assert sorted(added_partitions(result)) == ["chat", "single_file"]
    assert sorted(r.partition_key for r in result.run_requests) == ["chat", "single_file"]


def test_unchanged_sources_request_nothing_and_changed_ones_rerun(env, tmp_path, real_conversations):
    env.add_source("chat", write_jsonl(tmp_path / "a.jsonl", real_conversations[:3]))
    first = tick(env, cursor=None)
    env.register(*added_partitions(first))

    second = tick(env, cursor=first.cursor)
    assert second.run_requests == [] and added_partitions(second) == []

    env.add_source("chat", write_jsonl(tmp_path / "b.jsonl", real_conversations[3:6]))
    third = tick(env, cursor=second.cursor)
    assert [r.partition_key for r in third.run_requests] == ["chat"]
    assert added_partitions(third) == []  # known source: refreshed, not registered again
    assert third.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_source_already_ingested_at_its_current_files_is_not_ingested_again(
    env, tmp_path, real_conversations
):
    from instruct_assets.defs.ingest.assets import ingest_source

    env.add_source("chat", write_jsonl(tmp_path / "a.jsonl", real_conversations[:3]))
    env.register("chat")
    assert dg.materialize(
        [ingest_source], partition_key="chat", resources=env.resources, instance=env.instance
    ).success
    assert tick(env, cursor=None).run_requests == []  # e.g. `make ui` after `make run`

    env.add_source("chat", write_jsonl(tmp_path / "b.jsonl", real_conversations[3:6]))
    assert [r.partition_key for r in tick(env, cursor=None).run_requests] == ["chat"]
