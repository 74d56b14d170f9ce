"""Per-environment settings from resources/env/<name>.yaml, chosen by INSTRUCT_ASSETS_ENV (default: local).

Top-level keys are paths. The `llm` and `embedder` sections configure the model resources, `mlflow` the
tracking resource. Every key can be overridden from the environment: INSTRUCT_ASSETS_<KEY> for a path,
INSTRUCT_ASSETS_<SECTION>_<KEY> for a section's setting (e.g. INSTRUCT_ASSETS_LLM_MODEL=/models/my-checkpoint,
INSTRUCT_ASSETS_MLFLOW_TRACKING_URI=http://mlflow:5000). "{data_dir}" in any value stands for the final
data_dir.
"""

import os
from pathlib import Path

import yaml
from pydantic import BaseModel

from instruct_assets.paths import RESOURCES_DIR, resolve_project_path

ENV_VAR_PREFIX = "INSTRUCT_ASSETS_"
SECTIONS = ("llm", "embedder", "mlflow")


class Settings(BaseModel):
    data_dir: Path
    landing_dir: Path
    lake_dir: Path
    warehouse_path: Path
    sources_file: Path
    models_dir: Path
    llm: dict[str, str | int | float | None] = {}
    embedder: dict[str, str | int | float | None] = {}
    mlflow: dict[str, str | int | float | None] = {}


def load_settings(environment: str | None = None) -> Settings:
    """The settings of one environment, with INSTRUCT_ASSETS_<KEY> overrides applied."""
    environment = environment or os.environ.get(f"{ENV_VAR_PREFIX}ENV", "local")
    path = RESOURCES_DIR / "env" / f"{environment}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml")))
        raise FileNotFoundError(f"no settings file {path} for environment {environment!r} (known: {known})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sections = {name: section_with_overrides(name, raw.pop(name, None) or {}) for name in SECTIONS}
    values = {key: os.environ.get(f"{ENV_VAR_PREFIX}{key.upper()}", str(value)) for key, value in raw.items()}
    data_dir = str(resolve_project_path(values["data_dir"]))
    resolved = {key: resolve_project_path(value.format(data_dir=data_dir)) for key, value in values.items()}
    # replace, not format: a section value (a URL, a model id) may hold braces of its own.
    sections = {
        name: {k: v.replace("{data_dir}", data_dir) if isinstance(v, str) else v for k, v in section.items()}
        for name, section in sections.items()
    }
    return Settings(**resolved, **sections)


def section_with_overrides(name: str, section: dict) -> dict:
    prefix = f"{ENV_VAR_PREFIX}{name.upper()}_"
    overrides = {k.removeprefix(prefix).lower(): v for k, v in os.environ.items() if k.startswith(prefix)}
    unknown = sorted(set(overrides) - set(section))
    if unknown:
        names = ", ".join(prefix + key.upper() for key in unknown)
        raise ValueError(f"{names}: no such {name} setting; known: {sorted(section)}")
    return {**section, **overrides}
