"""The tags every MLflow run of the project carries, so a run can be traced to the asset version it
records (and an evaluation to the checkpoint and training set behind it) without opening Dagster."""

TAG_PREFIX = "instruct_assets."
ROLE = f"{TAG_PREFIX}role"
ASSET_KEY = f"{TAG_PREFIX}asset_key"
PARTITION = f"{TAG_PREFIX}partition"
DATA_VERSION = f"{TAG_PREFIX}data_version"
CODE_VERSION = f"{TAG_PREFIX}code_version"
CHECKPOINT = f"{TAG_PREFIX}checkpoint"
CHECKPOINT_DATA_VERSION = f"{TAG_PREFIX}checkpoint_data_version"
TRAINING_SET = f"{TAG_PREFIX}training_set"
TRAINING_SAMPLES = f"{TAG_PREFIX}training_samples"
METHOD = f"{TAG_PREFIX}method"
SKIPPED_METRICS = f"{TAG_PREFIX}skipped_metrics"
DAGSTER_RUN_ID = "dagster.run_id"

TRAINING = "training"
EVALUATION = "evaluation"
ROLES = (TRAINING, EVALUATION)


def asset_label(asset_key: str, partition: str | None) -> str:
    """`selection_checkpoint[random]` for a partition, `checkpoint_f` without one: the value of the
    checkpoint tag."""
    return f"{asset_key}[{partition}]" if partition else asset_key


def lineage_tags(
    role: str,
    asset_key: str,
    partition: str | None,
    data_version: str,
    code_version: str,
    dagster_run_id: str,
    **extra: str,
) -> dict[str, str]:
    """The standard tags of one run: role ("training" or "evaluation"), the asset it materializes, its
    partition ("" when unpartitioned), data and code versions and the Dagster run id. Each `extra`
    keyword becomes `instruct_assets.<key>`: checkpoint, checkpoint_data_version, training_set, method,
    training_samples, or any other. Values are strings; None is refused rather than logged as "None"."""
    if role not in ROLES:
        raise ValueError(f"run role {role!r}: expected one of {ROLES}")
    missing = sorted(key for key, value in extra.items() if value is None)
    if missing:
        raise ValueError(f"lineage tags {missing} are None: pass a string, or leave the keyword out")
    return {
        ROLE: role,
        ASSET_KEY: asset_key,
        PARTITION: partition or "",
        DATA_VERSION: data_version,
        CODE_VERSION: code_version,
        DAGSTER_RUN_ID: dagster_run_id,
        **{f"{TAG_PREFIX}{key}": str(value) for key, value in extra.items()},
    }
