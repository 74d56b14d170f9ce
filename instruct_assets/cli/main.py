"""The `instruct-assets` command: build the demo, materialize everything, summarize, report (the curation
funnel, or the quality tables from MLflow), audit one sample."""

import argparse
import os
import sys

import polars as pl

from instruct_assets.settings import load_settings


def cmd_demo(args: argparse.Namespace) -> int:
    from instruct_assets.demo.build_landing import build_demo_landing

    landing = load_settings().landing_dir
    rows = build_demo_landing(landing, args.profile)
    print(f"demo sources ({args.profile}) in {landing}:")
    for name, count in rows.items():
        print(f"  {name:<16} {count:>7} rows")
    return 0


def cmd_materialize(args: argparse.Namespace) -> int:
    import dagster as dg

    from instruct_assets.cli.materialize import materialize_all

    if not os.environ.get("DAGSTER_HOME"):
        print("DAGSTER_HOME is not set: run through `make run`, or export it (see README)", file=sys.stderr)
        return 2
    with dg.DagsterInstance.get() as instance:
        outcomes = materialize_all(instance)
    failed = [name for name, ok in outcomes if not ok]
    for name, ok in outcomes:
        print(f"  {'ok    ' if ok else 'FAILED'} {name}")
    cmd_summary(args)
    print()
    cmd_report(args)
    return 1 if failed else 0


def cmd_summary(_: argparse.Namespace) -> int:
    settings = load_settings()
    accounting = settings.lake_dir / "source_accounting.parquet"
    if not accounting.is_file():
        print(f"nothing materialized yet ({accounting} is missing)", file=sys.stderr)
        return 1
    frame = pl.read_parquet(accounting)
    with pl.Config(tbl_rows=100, tbl_width_chars=160, fmt_str_lengths=90, tbl_hide_dataframe_shape=True):
        print("\nrows per source (raw_pool + quarantine = rows read):")
        print(frame)
    totals = frame.select(pl.col("rows_read", "kept", "quarantined").sum()).row(0, named=True)
    read, kept, quarantined = totals["rows_read"], totals["kept"], totals["quarantined"]
    print(f"total: {read} read, {kept} in raw_pool, {quarantined} quarantined")
    print("\nwhere the files are:")
    print(f"  landing sources   {settings.landing_dir}")
    print(f"  lake (Parquet)    {settings.lake_dir}/<asset>/<source>.parquet")
    print(f"  decisions         {settings.lake_dir}/decisions/<stage>/<source>.parquet")
    print(f"  DuckDB views      {settings.warehouse_path}  (every pool stage, foundational_set, decisions)")
    kept = pl.scan_parquet(settings.lake_dir / "raw_pool" / "*.parquet").select("sample_id").head(1).collect()
    bad = (
        pl.scan_parquet(settings.lake_dir / "quarantine" / "*.parquet")
        .select("quarantine_id")
        .head(1)
        .collect()
    )
    if kept.height and bad.height:
        print(f"\ntry: instruct-assets audit {kept.item()}   (a kept sample)")
        print(f"     instruct-assets audit {bad.item()}  (a quarantined row)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    if getattr(args, "what", "funnel") == "quality":
        return cmd_quality(args)
    from instruct_assets.lineage.funnel import curation_funnel

    lake = load_settings().lake_dir
    funnel = curation_funnel(lake)
    if funnel.height == 0:
        print(f"no decisions in {lake}: materialize first", file=sys.stderr)
        return 1
    with pl.Config(tbl_rows=20, tbl_width_chars=200, fmt_str_lengths=120, tbl_hide_dataframe_shape=True):
        print("curation funnel (rows per stage, drops by reason):")
        print(funnel)
    final = lake / "foundational_set.parquet"
    if final.is_file():
        mix = pl.read_parquet(final, columns=["dsir_domain"])["dsir_domain"].value_counts(sort=True)
        shares = ", ".join(f"{domain} {count}" for domain, count in mix.iter_rows())
        print(f"foundational set F: {mix['count'].sum()} samples ({shares}) in {final}")
    return 0


def cmd_quality(_: argparse.Namespace) -> int:
    from instruct_assets.reporting.quality import quality_tables, render_quality_report
    from instruct_assets.resources.mlflow_tracking import MLflowResource

    mlflow = MLflowResource(**load_settings().mlflow)
    where = f"experiment {mlflow.experiment!r} at {mlflow.resolved_tracking_uri()}"
    runs = mlflow.runs(role="evaluation")
    if runs.height == 0:
        print(
            f"no finished evaluation runs in {where}: materialize the evaluation assets first "
            "(selection_eval, eval_f, eval_stage2, eval_mixed), or point INSTRUCT_ASSETS_MLFLOW_TRACKING_URI "
            "at the store that holds them",
            file=sys.stderr,
        )
        return 1
    tables = quality_tables(runs)
    latest = f"{tables.evaluations} latest evaluations of {runs.height} runs"
    print(f"quality of the checkpoints: {latest} in {where}")
    print()
    print(render_quality_report(tables))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from instruct_assets.lineage.audit import audit_report

    report = audit_report(load_settings().lake_dir, args.sample_id)
    if report is None:
        print(f"no record of {args.sample_id} in {load_settings().lake_dir}", file=sys.stderr)
        return 1
    print(report)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="instruct-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="build the demo landing directory from packaged data")
    demo.add_argument("--profile", default="demo", help="demo (default, ~3k rows), small, or full")
    demo.set_defaults(func=cmd_demo)
    materialize = commands.add_parser("materialize", help="materialize every asset (all sources)")
    materialize.set_defaults(func=cmd_materialize)
    summary = commands.add_parser("summary", help="rows per source and where the files are")
    summary.set_defaults(func=cmd_summary)
    report = commands.add_parser(
        "report", help="the curation funnel (default), or the quality tables of the evaluations in MLflow"
    )
    report.add_argument(
        "what",
        nargs="?",
        choices=("funnel", "quality"),
        default="funnel",
        help="funnel: rows per stage, drops by reason; quality: selections vs random, two-stage vs mixed",
    )
    report.set_defaults(func=cmd_report)
    audit = commands.add_parser("audit", help="where one sample came from and every decision about it")
    audit.add_argument("sample_id", help="a sample_id, or a quarantine_id (q...) for a row that never parsed")
    audit.set_defaults(func=cmd_audit)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
