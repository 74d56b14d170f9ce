import dagster as dg
from pydantic import Field


class ScoredPoolConfig(dg.Config):
    chunk_rows: int = Field(
        64, description="samples per scoring chunk: one progress line and one cache part each"
    )
