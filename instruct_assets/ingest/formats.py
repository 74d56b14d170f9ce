"""The input formats the readers understand, and how a file's format is detected."""

from enum import StrEnum

import duckdb

from instruct_assets.paths import read_sql

DETECTION_SAMPLE_ROWS = 200


class Format(StrEnum):
    ALPACA = "alpaca"  # {"instruction", "input", "output"}
    SHAREGPT = "sharegpt"  # {"conversations": [{"from", "value"}]}
    OPENAI = "openai"  # {"messages": [{"role", "content"}]}

    @property
    def extract_sql(self) -> str:
        """The statement that defines the view `extracted` over the table `decoded` for this format."""
        return read_sql(f"ingest/extract_{self.value}.sql")


class FormatNotDetected(ValueError):
    """No format's signature keys appear in the sampled rows."""

    def __init__(self, keys_seen: str | None):
        self.keys_seen = keys_seen or "none"
        super().__init__(
            f"keys seen: {self.keys_seen}; no format matches. Set `format:` for this source in the "
            f"sources file to one of {', '.join(f.value for f in Format)}"
        )


def detect_format(con: duckdb.DuckDBPyConnection) -> Format | None:
    """The format whose signature most sampled rows of the `decoded` table carry.

    None when the sample holds no JSON object yet (detection waits for the next chunk);
    FormatNotDetected when it holds objects but none fits a format.
    """
    sharegpt, openai, alpaca, sampled, keys_seen = con.sql(
        read_sql("ingest/detect_format.sql"), params={"sample_rows": DETECTION_SAMPLE_ROWS}
    ).fetchall()[0]
    if sampled == 0:
        return None
    votes = {Format.SHAREGPT: sharegpt, Format.OPENAI: openai, Format.ALPACA: alpaca}
    best = max(votes, key=votes.__getitem__)
    if votes[best] == 0:
        raise FormatNotDetected(keys_seen)
    return best
