import dagster as dg

# Open-source Dagster ships its default automation sensor stopped; without a running one, no asset's
# automation_condition (source_accounting's, and the later stages') would ever fire.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
