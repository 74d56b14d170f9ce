"""Markdown tables for materialization metadata (the Dagster UI renders them)."""

import polars as pl

PREVIEW_ROWS = 5
PREVIEW_CHARS = 80


def preview_text(column: str) -> pl.Expr:
    """A text column cut to PREVIEW_CHARS with whitespace runs made single spaces, for a preview table."""
    return pl.col(column).str.slice(0, PREVIEW_CHARS).str.replace_all(r"\s+", " ")


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


def markdown_histogram(values: pl.Series, bins: int = 12, width: int = 40) -> str:
    """A bar chart of a numeric column as a markdown table: one row per equal-width bin."""
    values = values.drop_nulls().drop_nans() if values.dtype.is_float() else values.drop_nulls()
    if values.len() == 0:
        return "no values"
    low, high = float(values.min()), float(values.max())
    step = (high - low) / bins or 1.0
    index = ((values.cast(pl.Float64) - low) / step).floor().clip(0, bins - 1).cast(pl.Int64)
    counts = index.value_counts().sort(index.name)
    count_of = dict(counts.iter_rows())
    peak = max(count_of.values())
    rows = []
    for b in range(bins):
        count = count_of.get(b, 0)
        bar = "█" * round(width * count / peak)
        rows.append((f"{low + b * step:.3g} .. {low + (b + 1) * step:.3g}", count, bar))
    frame = pl.DataFrame(rows, schema=["range", "rows", "share"], orient="row")
    return markdown_table(frame)
