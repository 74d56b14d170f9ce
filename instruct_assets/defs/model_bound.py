"""The asset decorator every model-bound asset of training and evaluation shares."""

import dagster as dg

from instruct_assets.defs.ingest.assets import OWNERS


def model_bound_asset(name: str, group_name: str, code_version: str, kinds: set[str], **kwargs):
    """An asset that loads a model: in the `gpu` pool (one GPU is never oversubscribed), eager (it follows
    its inputs), owned by the curation team."""
    return dg.asset(
        name=name,
        kinds=kinds,
        owners=OWNERS,
        group_name=group_name,
        pool="gpu",
        code_version=code_version,
        automation_condition=dg.AutomationCondition.eager(),
        **kwargs,
    )
