"""The analysts' subcommands of `smb-pipeline`: serve-sql, pairs, report.

`add_bi_commands` is the one hook into the main parser; each handler loads the config,
checks its arguments before Spark starts (exit 2 on a bad one) and reports output or
endpoint failures as one line with exit code 3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from smb_pipeline.config import PipelineConfig, load_config, parse_day
from smb_pipeline.errors import ConfigError

EXIT_OUTPUT = 3


def cmd_serve_sql(args: argparse.Namespace) -> int:
    from smb_pipeline.bi.catalog import DEFAULT_DATABASE
    from smb_pipeline.bi.thrift import Endpoint, ServeError, serve

    config = load_config(args.config)
    if args.days < 1:
        raise ConfigError(f"--days: must be at least 1 (value {args.days})")
    endpoint = Endpoint(args.host, args.port, config.output.database or DEFAULT_DATABASE)
    try:
        return serve(args.config, config, endpoint, args.days, args.master, say=lambda line: print(line, flush=True))
    except ServeError as exc:
        print(f"smb-pipeline: serve-sql: {exc}", file=sys.stderr)
        return EXIT_OUTPUT


def _session(config: PipelineConfig, args: argparse.Namespace, app_name: str):
    """The command line's own session start: the engine's output goes to the log file."""
    from smb_pipeline.cli.commands import start_session

    return start_session(config, args, app_name)


def _day_range(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    """--date D, or --start D1 --end D2 (both)."""
    if args.date and (args.start or args.end):
        raise ConfigError("--date: use either --date or --start/--end")
    if args.date:
        day = parse_day(args.date, "--date")
        return day, day
    if not (args.start and args.end):
        raise ConfigError("--start/--end: give both, or use --date")
    start, end = parse_day(args.start, "--start"), parse_day(args.end, "--end")
    if end < start:
        raise ConfigError(f"--end: {end} is before --start {start}")
    return start, end


def cmd_pairs(args: argparse.Namespace) -> int:
    from smb_pipeline.bi.pairs import fetch_pairs, render

    config = load_config(args.config)
    start, end = _day_range(args)
    if args.top < 0:
        raise ConfigError(f"--top: must be 0 (all) or more (value {args.top})")
    spark = _session(config, args, "smb_pipeline pairs")
    rows = fetch_pairs(spark, config, start, end, args.top)
    if rows is None:
        print(f"smb-pipeline: pairs: no Delta table at {config.output.table_path('smb_allowed_daily')} "
              "(run `smb-pipeline run` first)", file=sys.stderr)
        return EXIT_OUTPUT
    print(render(rows, args.format), flush=True)
    if not rows:
        print(f"smb-pipeline: pairs: no pairs between {start} and {end}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from smb_pipeline.bi.report import build_report

    config = load_config(args.config)
    day = parse_day(args.date, "--date")
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        raise ConfigError(f"--out: folder does not exist: {str(out.parent)!r}")
    spark = _session(config, args, "smb_pipeline report")
    html = build_report(spark, config, day)
    if html is None:
        print(f"smb-pipeline: report: no Delta table at {config.output.table_path('smb_allowed_daily')} "
              "(run `smb-pipeline run` first)", file=sys.stderr)
        return EXIT_OUTPUT
    out.write_text(html, encoding="utf-8")
    print(f"report for {day}: {out} ({len(html):,} bytes, self-contained)")
    return 0


def add_bi_commands(commands) -> None:
    """Add serve-sql, pairs and report to the subparsers of `smb-pipeline`."""
    serve = commands.add_parser("serve-sql", help="SQL endpoint (Spark Thrift Server, HiveServer2) for BI tools")
    serve.add_argument("--config", required=True, help="YAML configuration file")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)")
    serve.add_argument("--port", type=int, default=10000, help="port to listen on (default 10000)")
    serve.add_argument("--days", type=int, default=7, help="days in the smb_pairs_latest view (default 7)")
    serve.add_argument("--master", default="local[*]", help="Spark master of the server (default local[*])")
    serve.set_defaults(handler=cmd_serve_sql)


    pairs = commands.add_parser("pairs", help="print the stored pairs of a day or a range, busiest first")
    pairs.add_argument("--config", required=True, help="YAML configuration file")
    pairs.add_argument("--date", help="one UTC day YYYY-MM-DD")
    pairs.add_argument("--start", help="first UTC day of a range (with --end)")
    pairs.add_argument("--end", help="last UTC day of a range (with --start)")
    pairs.add_argument("--top", type=int, default=20, help="print the N busiest pairs (default 20; 0: all)")
    pairs.add_argument("--format", choices=("table", "csv", "json"), default="table", help="default table")
    pairs.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    pairs.set_defaults(handler=cmd_pairs)

    report = commands.add_parser("report", help="write the day's self-contained HTML report")
    report.add_argument("--config", required=True, help="YAML configuration file")
    report.add_argument("--date", required=True, help="UTC day YYYY-MM-DD")
    report.add_argument("--out", required=True, help="HTML file to write")
    report.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    report.set_defaults(handler=cmd_report)
