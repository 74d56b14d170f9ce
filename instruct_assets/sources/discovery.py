"""Find the sources in a landing directory and join them with what the sources file says about them."""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from instruct_assets.ingest.formats import Format
from instruct_assets.ingest.source_ingest import DATA_SUFFIXES

SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class SourceSpec:
    """One source: its data files (in ingestion order) and what the sources file declares."""

    name: str
    files: tuple[Path, ...]
    format: Format | None = None
    description: str | None = None
    license: str | None = None
    priority: int = 0  # deduplication keeps the copy from the higher-priority source
    ignored_files: tuple[Path, ...] = field(default=())

    def fingerprint(self) -> str:
        """Changes whenever a file is added, removed, replaced or rewritten."""
        digest = hashlib.sha256()
        for path in self.files:
            stat = path.stat()
            digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:16]


def is_data_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.name.lower().endswith(DATA_SUFFIXES)


def source_name_of(path: Path) -> str:
    name = path.name
    for suffix in sorted(DATA_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def load_source_declarations(sources_file: Path) -> dict[str, dict]:
    if not sources_file.is_file():
        return {}
    document = yaml.safe_load(sources_file.read_text(encoding="utf-8")) or {}
    declared = document.get("sources") or {}
    for name, entry in declared.items():
        fmt = (entry or {}).get("format")
        if fmt is not None and fmt not in {f.value for f in Format}:
            raise ValueError(
                f"{sources_file}: source {name!r} has format {fmt!r}; use one of "
                f"{', '.join(f.value for f in Format)} or leave it out to detect it"
            )
    return declared


def discover_sources(landing_dir: Path, sources_file: Path) -> dict[str, SourceSpec]:
    """Every source present in the landing directory, by name, in name order.

    Hidden files and folders (a leading dot) are skipped, so an upload can be staged as `.name`
    and renamed into place when complete.
    """
    declared = load_source_declarations(sources_file)
    found: dict[str, SourceSpec] = {}
    if not landing_dir.is_dir():
        return found
    for entry in sorted(landing_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            name = entry.name
            candidates = sorted(p for p in entry.rglob("*") if p.is_file() and not _hidden(p, entry))
            files = tuple(p for p in candidates if is_data_file(p))
            ignored = tuple(p for p in candidates if not is_data_file(p))
        elif is_data_file(entry):
            name, files, ignored = source_name_of(entry), (entry,), ()
        else:
            continue
        if not SOURCE_NAME.match(name):
            raise ValueError(
                f"{entry}: {name!r} cannot name a source (letters, digits, '_', '.', '-'; at most 128); "
                "rename it"
            )
        if name in found:
            raise ValueError(f"{entry}: source {name!r} is both a folder and a file in {landing_dir}")
        entry_decl = declared.get(name) or {}
        fmt = entry_decl.get("format")
        found[name] = SourceSpec(
            name=name,
            files=files,
            format=Format(fmt) if fmt else None,
            description=entry_decl.get("description"),
            license=entry_decl.get("license"),
            priority=_priority(sources_file, name, entry_decl.get("priority", 0)),
            ignored_files=ignored,
        )
    return found


def _priority(sources_file: Path, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{sources_file}: source {name!r} has priority {value!r}; use an integer")
    return value


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)
