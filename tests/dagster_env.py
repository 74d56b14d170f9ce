"""A throwaway data directory and Dagster instance, with the project's real resources pointed at them."""

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from instruct_assets.defs.ingest.partitions import sources_partitions
from instruct_assets.defs.resources import build_resources


@dataclass
class DagsterEnv:
    data_dir: Path
    instance: dg.DagsterInstance
    resources: dict

    @property
    def landing(self) -> Path:
        return self.data_dir / "landing"

    @property
    def lake(self) -> Path:
        return self.data_dir / "lake"

    def add_source(self, name: str, *files: Path) -> Path:
        folder = self.landing / name
        folder.mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copy(file, folder / file.name)
        return folder

    def register(self, *names: str) -> None:
        self.instance.add_dynamic_partitions(sources_partitions.name, list(names))


def make_env(data_dir: Path, instance: dg.DagsterInstance, monkeypatch) -> DagsterEnv:
    monkeypatch.setenv("INSTRUCT_ASSETS_DATA_DIR", str(data_dir))
    (data_dir / "landing").mkdir(parents=True, exist_ok=True)
    return DagsterEnv(data_dir=data_dir, instance=instance, resources=build_resources())
