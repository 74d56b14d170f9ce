import dagster as dg

# One partition per source; the landing sensor adds a partition when a new source arrives.
sources_partitions = dg.DynamicPartitionsDefinition(name="sources")
