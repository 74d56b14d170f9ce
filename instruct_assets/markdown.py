"""Markdown tables for materialization metadata (the Dagster UI renders them)."""

import polars as pl


def markdown_table(frame: pl.DataFrame, empty: str = "no rows") -> str:
    if frame.height == 0:
        return empty
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    cells = [
        "| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in row) + " |"
        for row in frame.iter_rows()
    ]
    return "\n".join([header, rule, *cells])
