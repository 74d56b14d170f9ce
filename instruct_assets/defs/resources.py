"""The resources every domain shares, configured from resources/env/<INSTRUCT_ASSETS_ENV>.yaml."""

import os

import dagster as dg

from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.landing import LandingZoneResource
from instruct_assets.resources.llm import EmbedderResource, LLMResource
from instruct_assets.resources.mlflow_tracking import MLflowResource
from instruct_assets.resources.parquet_io_manager import ParquetIOManager
from instruct_assets.resources.warehouse import WarehouseResource
from instruct_assets.settings import load_settings


def build_resources() -> dict:
    settings = load_settings()
    lake = LakeResource(lake_dir=str(settings.lake_dir))
    return {
        "lake": lake,
        "io_manager": ParquetIOManager(lake=lake),
        "landing": LandingZoneResource(
            landing_dir=str(settings.landing_dir), sources_file=str(settings.sources_file)
        ),
        "warehouse": WarehouseResource(warehouse_path=str(settings.warehouse_path), lake=lake),
        "llm": LLMResource(**settings.llm, models_dir=str(settings.models_dir), api_key=llm_api_key()),
        "embedder": EmbedderResource(**settings.embedder, models_dir=str(settings.models_dir)),
        "mlflow": MLflowResource(**settings.mlflow),
    }


def llm_api_key():
    """The vLLM server's bearer token, read at run time from VLLM_API_KEY when it is set."""
    return dg.EnvVar("VLLM_API_KEY") if "VLLM_API_KEY" in os.environ else None


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
