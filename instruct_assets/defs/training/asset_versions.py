"""Which version of an asset a run read: its key, partition and data version, from the Dagster instance."""

import hashlib
import json
from dataclasses import dataclass

import dagster as dg

from instruct_assets.resources.run_tags import asset_label


@dataclass(frozen=True)
class AssetVersion:
    asset_key: str
    partition: str | None
    data_version: str | None  # None when the asset has no recorded materialization

    @property
    def label(self) -> str:
        return asset_label(self.asset_key, self.partition)

    def as_dict(self) -> dict:
        return {"asset_key": self.asset_key, "partition": self.partition, "data_version": self.data_version}


def latest_version(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None = None
) -> AssetVersion:
    """The data version of the latest materialization of `key` (and `partition`)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None), limit=1
    ).records
    version = records[0].asset_materialization.tags.get("dagster/data_version") if records else None
    return AssetVersion(key.to_user_string(), partition, version)


def derived_version(*parts) -> str:
    """A data version for an output that is a function of `parts` (inputs' versions, config, code)."""
    payload = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(payload).hexdigest()[:16]
