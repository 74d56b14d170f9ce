"""Per-sample model scores (IFD, perplexity, representations) and their cache."""
