"""The landing directory where new sources arrive, and the sources file that describes them."""

from pathlib import Path

import dagster as dg

from instruct_assets.paths import resolve_project_path
from instruct_assets.sources.discovery import SourceSpec, discover_sources


class LandingZoneResource(dg.ConfigurableResource):
    """A folder per source (or one file per source) under `landing_dir`; see resources/sources.yaml."""

    landing_dir: str
    sources_file: str

    @property
    def root(self) -> Path:
        return resolve_project_path(self.landing_dir)

    def discover(self) -> dict[str, SourceSpec]:
        return discover_sources(self.root, resolve_project_path(self.sources_file))

    def source(self, name: str) -> SourceSpec:
        sources = self.discover()
        if name not in sources:
            raise FileNotFoundError(
                f"source {name!r} is registered as a partition but has no files in {self.root}; "
                f"restore its folder or file (sources present: {', '.join(sources) or 'none'})"
            )
        return sources[name]

    def priorities(self) -> dict[str, int]:
        """Each present source's dedup priority (resources/sources.yaml `priority`, default 0)."""
        return {name: spec.priority for name, spec in self.discover().items()}

    def file_ref(self, path: Path) -> str:
        """How source_ref names a file: its path relative to the landing directory."""
        return path.relative_to(self.root).as_posix()
