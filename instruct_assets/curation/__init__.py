"""CPU curation methods (dedup, filters, decontamination, DSIR) as pure functions over Arrow batches."""
