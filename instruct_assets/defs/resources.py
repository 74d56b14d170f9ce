"""The resources every domain shares, configured from resources/env/<INSTRUCT_ASSETS_ENV>.yaml."""

import dagster as dg

from instruct_assets.resources.lake import LakeResource
from instruct_assets.resources.landing import LandingZoneResource
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
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
