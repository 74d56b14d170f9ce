"""Rule filters over batches of canonical samples: one `sql/filters/<rule>.sql` per rule, run by DuckDB.

Each rule file is a query over the view `filter_input` (the batch plus `language` and `language_score`)
that returns the rows failing it as (sample_id, detail, score); its thresholds are bound parameters
(`FilterSettings.params_for`). `apply_filters` gives one decision per input row, in input order: the
first failing rule in `settings.rules` order is the reason, and the detail names any others that failed.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Self

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from instruct_assets.curation.language import identify_languages
from instruct_assets.ingest.source_ingest import SCAN_BATCH_ROWS
from instruct_assets.paths import SQL_DIR, read_sql, resolve_project_path

FILTERS_SQL_DIR = SQL_DIR / "filters"
DEFAULT_RULES = ("length_bounds", "repetition", "non_text", "refusal", "language")
REQUIRED_COLUMNS = ("sample_id", "messages", "prompt", "response", "prompt_chars", "response_chars")

FILTER_DECISIONS_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("language", pa.string()),
        ("language_score", pa.float64()),
        ("reason", pa.string()),  # the first failing rule; null = kept
        ("detail", pa.string()),
        ("score", pa.float64()),
    ]
)

# The FilterSettings fields each rule binds, by the name its SQL uses. A rule file absent from this map
# binds no parameters, so a fixed rule is added by dropping a .sql file into sql/filters/.
RULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "length_bounds": ("min_prompt_chars", "min_response_chars", "max_conversation_chars"),
    "repetition": (
        "min_line_chars",
        "min_lines",
        "max_duplicate_line_ratio",
        "min_words",
        "max_repeated_ngram_ratio",
    ),
    "non_text": ("max_non_text_ratio",),
    "refusal": ("refusal_window_chars",),  # plus refusal_pattern, read from refusal_patterns_file
    "language": ("languages", "min_language_score", "drop_unidentified_language"),
}


@dataclass(frozen=True)
class FilterSettings:
    """Which rules run, in which order (the first failure is the reason), and their thresholds.

    The defaults were tuned on 10,317 real ShareGPT conversations (see each rule's .sql header).
    """

    rules: tuple[str, ...] = DEFAULT_RULES
    # length_bounds: "hi"/"test" prompts and "Okay."/zero-width-space answers; 32k chars is about 8k tokens.
    min_prompt_chars: int = 6
    min_response_chars: int = 5
    max_conversation_chars: int = 32_000
    # repetition: real answers (JSON records, song choruses, tables) reach 0.76 duplicate lines and 0.59
    # repeated 5-grams; generation loops sit near 0.9.
    min_line_chars: int = 10
    min_lines: int = 5
    max_duplicate_line_ratio: float = 0.8
    min_words: int = 50
    max_repeated_ngram_ratio: float = 0.6
    # non_text: code answers reach 0.45; the highest legitimate prompt seen (an ASCII table schema) 0.6.
    max_non_text_ratio: float = 0.65
    # refusal: the opening is where a refusal or an "As an AI language model" disclaimer sits.
    refusal_window_chars: int = 200
    refusal_patterns_file: str = "resources/filters/refusal_patterns.txt"
    # language: fastText lid.176 scores; 0.65 is datatrove's LanguageFilter default, and on ShareGPT most
    # non-English labels under it are English text around code.
    languages: tuple[str, ...] = ("en",)
    min_language_score: float = 0.65
    drop_unidentified_language: bool = False
    language_text_chars: int = 1000

    def __post_init__(self) -> None:
        for rule in self.rules:
            rule_sql_path(rule)  # fail at configuration time, not after the language model has run

    def params_for(self, rule: str) -> dict[str, Any]:
        """The parameters bound to `sql/filters/<rule>.sql`, by name; ValueError if there is no such rule."""
        rule_sql_path(rule)
        params: dict[str, Any] = {name: getattr(self, name) for name in RULE_PARAMETERS.get(rule, ())}
        if "languages" in params:
            params["languages"] = list(self.languages)  # DuckDB binds a list as VARCHAR[], not a tuple
        if rule == "refusal":
            params["refusal_pattern"] = refusal_pattern(resolve_project_path(self.refusal_patterns_file))
        return params


def rule_sql_path(rule: str) -> Path:
    """The SQL file of `rule`; ValueError naming the rule and the directory when it does not exist."""
    path = FILTERS_SQL_DIR / f"{rule}.sql"
    if not rule.isidentifier() or not path.is_file():
        known = sorted(p.stem for p in FILTERS_SQL_DIR.glob("*.sql"))
        raise ValueError(
            f"unknown filter rule {rule!r}: no {rule}.sql in {FILTERS_SQL_DIR} (rules there: {known}); "
            "fix FilterSettings.rules or add the file"
        )
    return path


@cache
def refusal_pattern(patterns_file: Path) -> str:
    """One case-insensitive RE2 alternation of the file's patterns (one per line, `#` comment lines).

    Each pattern is compiled by DuckDB's own RE2 here, so a bad line is reported with its line number
    instead of failing every batch later.
    """
    patterns: list[str] = []
    with duckdb.connect() as con:
        for number, line in enumerate(patterns_file.read_text(encoding="utf-8").splitlines(), start=1):
            pattern = line.strip()
            if not pattern or pattern.startswith("#"):
                continue
            try:
                con.execute("SELECT regexp_matches('', $pattern)", {"pattern": pattern})
            except duckdb.Error as error:
                raise ValueError(
                    f"{patterns_file}:{number}: not a valid RE2 pattern {pattern!r}: {error}"
                ) from error
            patterns.append(f"(?:{pattern})")
    if not patterns:
        raise ValueError(f"{patterns_file} holds no patterns; the refusal rule would match nothing")
    return "(?i)" + "|".join(patterns)


class RuleFilter:
    """Runs the configured rules over batches on one DuckDB connection; use as a context manager."""

    def __init__(self, settings: FilterSettings):
        self.settings = settings
        self._queries = [
            (rule, read_sql(f"filters/{rule}.sql"), settings.params_for(rule)) for rule in settings.rules
        ]
        self._con = duckdb.connect()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._con.close()

    def apply(self, batch: pa.Table) -> pa.Table:
        """One row per input row, in input order, with FILTER_DECISIONS_SCHEMA; reason null = kept."""
        _check_batch(batch)
        language, language_score = identify_languages(
            batch.column("prompt"), batch.column("response"), self.settings.language_text_chars
        )
        filter_input = batch.append_column("language", language).append_column(
            "language_score", language_score
        )
        # Cut into record batches without a copy: DuckDB scans one record batch per thread.
        self._con.register(
            "filter_input",
            pa.Table.from_batches(filter_input.to_batches(SCAN_BATCH_ROWS), filter_input.schema),
        )
        try:
            failures = [
                (rule, self._con.sql(sql, params=params).to_arrow_table())
                for rule, sql, params in self._queries
            ]
        finally:
            self._con.unregister("filter_input")
        # One contiguous array: pyarrow's element-wise kernels refuse chunked inputs cut differently.
        return _decisions(batch.column("sample_id").combine_chunks(), language, language_score, failures)


def apply_filters(batch: pa.Table, settings: FilterSettings) -> pa.Table:
    """Decisions for one batch of canonical samples (see RuleFilter.apply) on a fresh connection."""
    with RuleFilter(settings) as rule_filter:
        return rule_filter.apply(batch)


def _check_batch(batch: pa.Table) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in batch.column_names]
    if missing:
        raise ValueError(
            f"the batch lacks columns {missing}; filters read canonical samples (RAW_POOL_SCHEMA)"
        )
    sample_ids = batch.column("sample_id")
    # Failures are matched back to rows by sample_id, so each must name exactly one row.
    if sample_ids.null_count or pc.count_distinct(sample_ids).as_py() != batch.num_rows:
        counts = pc.value_counts(sample_ids)
        repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
        raise ValueError(
            f"sample_id must be unique and non-null within a batch: {sample_ids.null_count} null, "
            f"repeated {repeated.to_pylist()[:5]}; deduplicate the batch before filtering"
        )


def _decisions(
    sample_ids: pa.Array,
    language: pa.Array,
    language_score: pa.Array,
    failures: list[tuple[str, pa.Table]],
) -> pa.Table:
    """Fold each rule's failing rows into one decision per sample, the first failing rule winning."""
    reasons, details, scores, also_failed = [], [], [], []
    failed_before = pa.array([False] * len(sample_ids))
    no_text = pa.scalar(None, pa.string())
    for rule, failed in failures:
        position = pc.index_in(sample_ids, value_set=failed.column("sample_id").combine_chunks())
        fails = pc.is_valid(position)
        detail = pc.take(failed.column("detail").combine_chunks(), position)
        reasons.append(pc.if_else(fails, pa.scalar(rule), no_text))
        details.append(detail)
        scores.append(pc.cast(pc.take(failed.column("score").combine_chunks(), position), pa.float64()))
        named = pc.binary_join_element_wise(f"; also {rule} (", detail, ")", "")
        also_failed.append(pc.if_else(pc.and_(failed_before, fails), named, ""))
        failed_before = pc.or_(failed_before, fails)
    null_text = pa.nulls(len(sample_ids), pa.string())
    # Joined with an empty separator, not null_handling="skip": pyarrow drops all-null rows from that.
    detail = pc.binary_join_element_wise(pc.coalesce(*details), *also_failed, "") if details else null_text
    return pa.table(
        [
            sample_ids,
            language,
            language_score,
            pc.coalesce(*reasons) if reasons else null_text,
            detail,
            pc.coalesce(*scores) if scores else pa.nulls(len(sample_ids), pa.float64()),
        ],
        schema=FILTER_DECISIONS_SCHEMA,
    )
