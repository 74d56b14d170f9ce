"""`instruct-assets audit ID`: where one sample came from and every decision recorded about it."""

import json
import textwrap
from pathlib import Path

import duckdb

from instruct_assets.lineage.lake_views import create_lake_views
from instruct_assets.paths import read_sql

PREVIEW_CHARS = 300


def audit_report(lake_root: Path, sample_id: str) -> str | None:
    """A readable account of one id, or None when the lake holds nothing about it."""
    with duckdb.connect() as con:
        views = create_lake_views(con, lake_root)
        if "decisions" not in views:
            return None
        decisions = con.sql(read_sql("lineage/audit_sample.sql"), params={"id": sample_id}).fetchall()
        records = []
        if {"raw_pool", "quarantine"} <= set(views):
            records = con.sql(read_sql("lineage/audit_records.sql"), params={"id": sample_id}).fetchall()
        scores = []
        if "scored_pool" in views:
            scores = con.sql(read_sql("lineage/audit_scores.sql"), params={"id": sample_id}).fetchall()
    if not decisions and not records:
        return None
    lines = [f"sample {sample_id}", ""]
    lines.append("records:")
    for table, source, file, row, fmt, reason, detail, content in records:
        where = f"source {source}, file {file}, row {row}, format {fmt or 'unknown'}"
        if table == "raw_pool":
            lines.append(f"  kept in raw_pool: {where}")
            for message in json.loads(content):
                text = textwrap.shorten(message["content"], PREVIEW_CHARS, placeholder=" ...")
                lines.append(f"    [{message['role']}] {text}")
        else:
            lines.append(f"  quarantined ({reason}): {where}")
            lines.append(f"    why: {detail}")
            lines.append(f"    raw: {textwrap.shorten(content or '', PREVIEW_CHARS, placeholder=' ...')}")
    for llm, ifd, ppl_cond, ppl_resp, prompt_tokens, response_tokens, truncated, embedder in scores:
        lines += ["", f"scores (scored_pool; {llm}, embeddings by {embedder}):"]
        lines.append(
            f"  IFD {ifd:.4f} = PPL(y|x) {ppl_cond:.4g} / PPL(y) {ppl_resp:.4g}; "
            f"{prompt_tokens} prompt + {response_tokens} response tokens{' (truncated)' if truncated else ''}"
        )
    lines += ["", "decisions:"]
    for stage, kept, reason, detail, score, source, file, row, run_id, code_version, ref_id in decisions:
        verdict = "kept" if kept else f"dropped ({reason})"
        extra = f"; {detail}" if detail else ""
        extra += f"; see {ref_id}" if ref_id else ""
        scored = f"; score {score:.4g}" if score is not None else ""
        lines.append(
            f"  {stage}: {verdict}{extra}{scored} [{source} {file} row {row}; run {run_id[:8]}, "
            f"code {code_version}]"
        )
    return "\n".join(lines)
