"""Benchmarks: timed runs of the project's hot paths against a reference, printed as a report."""
