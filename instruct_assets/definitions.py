"""The code location's one entry point: every definition under instruct_assets/defs/, by domain."""

import warnings
from pathlib import Path

import dagster as dg

# Checkpoints and evaluations set their data version explicitly (derived from their inputs' versions,
# config and code), which Dagster still marks beta; the warning would print on every materialization.
warnings.filterwarnings("ignore", message="Parameter `data_version` of initializer `Output.__init__`")


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
