"""Per-environment settings from resources/env/<name>.yaml, chosen by INSTRUCT_ASSETS_ENV (default: local).

Top-level keys are paths. The `llm` and `embedder` sections configure the model resources. Every key can
be overridden from the environment: INSTRUCT_ASSETS_<KEY> for a path, INSTRUCT_ASSETS_LLM_<KEY> and
INSTRUCT_ASSETS_EMBEDDER_<KEY> for a model setting (e.g. INSTRUCT_ASSETS_LLM_MODEL=/models/my-checkpoint).
"""

import os
from pathlib import Path

import yaml
from pydantic import BaseModel

from instruct_assets.paths import RESOURCES_DIR, resolve_project_path

ENV_VAR_PREFIX = "INSTRUCT_ASSETS_"
MODEL_SECTIONS = ("llm", "embedder")


class Settings(BaseModel):
    data_dir: Path
    landing_dir: Path
    lake_dir: Path
    warehouse_path: Path
    sources_file: Path
    models_dir: Path
    llm: dict[str, str | int | float | None] = {}
    embedder: dict[str, str | int | float | None] = {}


def load_settings(environment: str | None = None) -> Settings:
    """The settings of one environment, with INSTRUCT_ASSETS_<KEY> overrides applied."""
    environment = environment or os.environ.get(f"{ENV_VAR_PREFIX}ENV", "local")
    path = RESOURCES_DIR / "env" / f"{environment}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml")))
        raise FileNotFoundError(f"no settings file {path} for environment {environment!r} (known: {known})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sections = {name: section_with_overrides(name, raw.pop(name, None) or {}) for name in MODEL_SECTIONS}
    values = {key: os.environ.get(f"{ENV_VAR_PREFIX}{key.upper()}", str(value)) for key, value in raw.items()}
    data_dir = str(resolve_project_path(values["data_dir"]))
    resolved = {key: resolve_project_path(value.format(data_dir=data_dir)) for key, value in values.items()}
    return Settings(**resolved, **sections)


def section_with_overrides(name: str, section: dict) -> dict:
    prefix = f"{ENV_VAR_PREFIX}{name.upper()}_"
    overrides = {k.removeprefix(prefix).lower(): v for k, v in os.environ.items() if k.startswith(prefix)}
    unknown = sorted(set(overrides) - set(section))
    if unknown:
        names = ", ".join(prefix + key.upper() for key in unknown)
        raise ValueError(f"{names}: no such {name} setting; known: {sorted(section)}")
    return {**section, **overrides}
