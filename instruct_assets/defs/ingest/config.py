import dagster as dg
from pydantic import Field

from instruct_assets.ingest.source_ingest import IngestSettings


class IngestConfig(dg.Config):
    """Limits of the raw-pool readers; defaults suit chat data, raise them for long-document sources."""

    max_row_bytes: int = Field(2_000_000, description="a longer line is quarantined as oversize")
    chunk_bytes: int = Field(32 * 2**20, description="bytes read per chunk: bounds memory per source")
    quarantine_raw_chars: int = Field(65_536, description="how much of a bad row's text quarantine keeps")
    extra_role_aliases: dict[str, str] = Field(
        default_factory=dict, description="more role names, e.g. {'prompter': 'user', 'bot': 'assistant'}"
    )

    def to_settings(self) -> IngestSettings:
        defaults = IngestSettings()
        aliases = {**defaults.role_aliases, **{k.lower(): v for k, v in self.extra_role_aliases.items()}}
        return IngestSettings(
            max_row_bytes=self.max_row_bytes,
            chunk_bytes=self.chunk_bytes,
            quarantine_raw_chars=self.quarantine_raw_chars,
            role_aliases=aliases,
        )
