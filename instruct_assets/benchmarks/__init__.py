"""Benchmark-like target sets (math, code, knowledge) declared in `resources/benchmarks.yaml`.

`load_benchmark_items` is the entry point: one row per benchmark item with a deterministic target/eval
split. The target split steers data selection; the eval split is held out and decontaminated against.
"""

from instruct_assets.benchmarks.catalog import BenchmarkSpec, CatalogError, load_catalog
from instruct_assets.benchmarks.loaders import (
    BENCHMARK_ITEMS_SCHEMA,
    BenchmarkFileError,
    BenchmarkItem,
    load_benchmark_items,
    split_of,
)

__all__ = [
    "BENCHMARK_ITEMS_SCHEMA",
    "BenchmarkFileError",
    "BenchmarkItem",
    "BenchmarkSpec",
    "CatalogError",
    "load_benchmark_items",
    "load_catalog",
    "split_of",
]
