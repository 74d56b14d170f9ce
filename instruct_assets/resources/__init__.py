"""Dagster resources: where data lives (lake, landing zone, warehouse) and how asset values are stored."""
