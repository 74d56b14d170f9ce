"""Where the project's non-code files live: `sql/`, `resources/`, and the local data directory."""

from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
RESOURCES_DIR = PROJECT_ROOT / "resources"


@cache
def read_sql(relative_path: str) -> str:
    """The text of `sql/<relative_path>`; SQL lives in files, never in Python strings.

    Cached: the ingest runs the same statements for every chunk of every file.
    """
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")


def resolve_project_path(path: str | Path) -> Path:
    """An absolute path: relative paths are taken from the project root, not the working directory."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path
