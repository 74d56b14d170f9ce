"""Reports over recorded results: the quality tables built from the evaluation runs in MLflow."""
