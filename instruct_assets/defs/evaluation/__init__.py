"""Evaluation: the held-out instruction dev set and one evaluation per checkpoint, each an MLflow run."""
