"""Per-environment settings from resources/env/<name>.yaml, chosen by INSTRUCT_ASSETS_ENV (default: local)."""

import os
from pathlib import Path

import yaml
from pydantic import BaseModel

from instruct_assets.paths import RESOURCES_DIR, resolve_project_path

ENV_VAR_PREFIX = "INSTRUCT_ASSETS_"


class Settings(BaseModel):
    data_dir: Path
    landing_dir: Path
    lake_dir: Path
    warehouse_path: Path
    sources_file: Path


def load_settings(environment: str | None = None) -> Settings:
    """The settings of one environment, with INSTRUCT_ASSETS_<KEY> overrides applied."""
    environment = environment or os.environ.get(f"{ENV_VAR_PREFIX}ENV", "local")
    path = RESOURCES_DIR / "env" / f"{environment}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml")))
        raise FileNotFoundError(f"no settings file {path} for environment {environment!r} (known: {known})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    values = {key: os.environ.get(f"{ENV_VAR_PREFIX}{key.upper()}", str(value)) for key, value in raw.items()}
    data_dir = str(resolve_project_path(values["data_dir"]))
    resolved = {key: resolve_project_path(value.format(data_dir=data_dir)) for key, value in values.items()}
    return Settings(**resolved)
