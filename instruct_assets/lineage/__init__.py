"""Lineage down to one sample: the decisions each stage records, and the audit that joins them."""
