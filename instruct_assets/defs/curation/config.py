"""Run config of the curation stages: every threshold and budget, with the method defaults."""

import dagster as dg
from pydantic import Field

from instruct_assets.curation.dedup import SURVIVOR_KEYS, DedupSettings
from instruct_assets.curation.filters import FilterSettings
from instruct_assets.curation.minhash import MinHashSettings

_MINHASH = MinHashSettings()
_FILTERS = FilterSettings()


class DedupConfig(dg.Config):
    """Exact + MinHash-LSH near dedup. Changing the shingling or layout makes earlier sources' index
    incomparable: re-materialize deduped_pool for every source after changing them."""

    shingle_size: int = Field(_MINHASH.shingle_size, description="words per shingle")
    num_perm: int = Field(_MINHASH.num_perm, description="MinHash permutations")
    threshold: float = Field(_MINHASH.threshold, description="Jaccard similarity the LSH layout targets")
    bands: int | None = Field(None, description="LSH bands; with rows, overrides the layout for threshold")
    rows: int | None = Field(None, description="signature values per band")
    seed: int = Field(_MINHASH.seed, description="MinHash seed")
    false_negative_weight: float = Field(
        _MINHASH.false_negative_weight,
        description="weight of a missed duplicate vs. a false drop in the derived layout (datasketch: 0.5)",
    )
    near: bool = Field(True, description="false: exact dedup only")
    survivor_order: list[str] = Field(
        list(DedupSettings().survivor_order),
        description=f"which copy survives, most important first; any of {sorted(SURVIVOR_KEYS)}",
    )

    def to_settings(self) -> DedupSettings:
        minhash = MinHashSettings(
            shingle_size=self.shingle_size,
            num_perm=self.num_perm,
            threshold=self.threshold,
            bands=self.bands,
            rows=self.rows,
            seed=self.seed,
            false_negative_weight=self.false_negative_weight,
        )
        return DedupSettings(minhash=minhash, survivor_order=tuple(self.survivor_order), near=self.near)


class FilterConfig(dg.Config):
    """Which rules run (sql/filters/<rule>.sql, first failure is the reason) and their thresholds."""

    rules: list[str] = Field(list(_FILTERS.rules), description="rule files to run, in order")
    min_prompt_chars: int = _FILTERS.min_prompt_chars
    min_response_chars: int = _FILTERS.min_response_chars
    max_conversation_chars: int = _FILTERS.max_conversation_chars
    min_line_chars: int = _FILTERS.min_line_chars
    min_lines: int = _FILTERS.min_lines
    max_duplicate_line_ratio: float = _FILTERS.max_duplicate_line_ratio
    min_words: int = _FILTERS.min_words
    max_repeated_ngram_ratio: float = _FILTERS.max_repeated_ngram_ratio
    max_non_text_ratio: float = _FILTERS.max_non_text_ratio
    refusal_window_chars: int = _FILTERS.refusal_window_chars
    refusal_patterns_file: str = _FILTERS.refusal_patterns_file
    languages: list[str] = Field(list(_FILTERS.languages), description="allowed languages; empty = any")
    min_language_score: float = _FILTERS.min_language_score
    drop_unidentified_language: bool = _FILTERS.drop_unidentified_language
    language_text_chars: int = _FILTERS.language_text_chars

    def to_settings(self) -> FilterSettings:
        values = self.model_dump()
        values["rules"], values["languages"] = tuple(self.rules), tuple(self.languages)
        return FilterSettings(**values)
