"""Reading raw instruction data into the canonical conversation schema (pure functions, no Dagster)."""
