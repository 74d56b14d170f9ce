"""Code versions derived from the code itself, so an asset's code_version changes when its logic does."""

import hashlib
from pathlib import Path

from instruct_assets.paths import PROJECT_ROOT


def code_version_of(*paths: Path) -> str:
    """A short hash of every .py and .sql file under `paths` (files or folders), names included."""
    digest = hashlib.sha256()
    files = []
    for path in paths:
        files += [path] if path.is_file() else [p for p in path.rglob("*") if p.suffix in {".py", ".sql"}]
    for file in sorted(set(files)):
        digest.update(file.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:12]
