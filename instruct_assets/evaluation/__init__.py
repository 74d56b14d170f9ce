"""Evaluating a checkpoint: dev loss, choice accuracy, exact match, LLM-judge scores, and the suite that
runs them all (`run_evaluation`). Pure functions over any `LLMBackend`; the Dagster assets call the suite.
What each metric means and its limits: docs/evaluation.md."""
