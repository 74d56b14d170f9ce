import dagster as dg

# eager(), except that a source registered but never processed does not hold an all-sources asset back,
# and nothing is requested before the first source is. For assets that read every source partition.
REFRESH_WHEN_ANY_SOURCE_UPDATES = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("eager, tolerating unmaterialized sources")

# Open-source Dagster ships its default automation sensor stopped; without a running one, no asset's
# automation_condition (source_accounting's, and the later stages') would ever fire.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
