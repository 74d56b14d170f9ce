import dagster as dg
from pydantic import Field


class SelectionConfig(dg.Config):
    """The budget every selection shares; the same defaults give every method the same budget."""

    budget: int | None = Field(None, description="samples to select; overrides fraction")
    fraction: float = Field(0.25, description="share of scored_pool to select when budget is unset")

    def budget_for(self, pool_rows: int) -> int:
        wanted = self.budget if self.budget is not None else round(self.fraction * pool_rows)
        return max(0, min(wanted, pool_rows))


class RandomSelectionConfig(SelectionConfig):
    seed: int = Field(0, description="the same seed and pool select the same samples")
