"""`smb-pipeline detect` and `smb-pipeline alerts`: recompute alerts alone, and export them."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

from smb_pipeline.config import PipelineConfig, load_config, parse_day
from smb_pipeline.errors import ConfigError, StorageError


def _range(args: argparse.Namespace) -> tuple:
    start, end = parse_day(args.start, "--start"), parse_day(args.end, "--end")
    if end < start:
        raise ConfigError(f"--end: {end} is before --start {start}")
    return start, end


def cmd_detect(args: argparse.Namespace) -> int:
    from smb_pipeline.cli.commands import start_session

    config = load_config(args.config)
    start, end = _range(args)
    spark = start_session(config, args, "smb_pipeline detect")
    report = detect_claimed(spark, config, start, end, args.wait)
    from smb_pipeline.alerts.report import summary_data, summary_lines

    args.console.summary("\n".join(summary_lines(report)), summary_data(report))
    return 0


def detect_claimed(spark, config: PipelineConfig, start, end, wait_seconds: float):
    """Claim the days (as a run does, so that a run and a detect of the same days do not race),
    then recompute their alerts; every commit carries the detect's own id."""
    from smb_pipeline.alerts.run import detect_days
    from smb_pipeline.model.dates import days_between
    from smb_pipeline.run.claims import RunClaims
    from smb_pipeline.storage import commits

    run_id = str(uuid.uuid4())
    claims = RunClaims(spark, config.output.path, run_id, "detect", days_between(start, end),
                       config.output.claim_lease_seconds)
    with commits.commits_tagged(spark, run_id):
        claims.acquire(wait_seconds)
        try:
            return detect_days(spark, config, start, end)
        finally:
            claims.release()


def _selection(args: argparse.Namespace) -> tuple:
    given = [name for name, value in (("--date", args.date), ("--start", args.start or args.end),
                                      ("--since-version", args.since_version)) if value is not None]
    if len(given) != 1:
        raise ConfigError("--date/--start/--end/--since-version: give exactly one of --date D, --start D1 --end D2, "
                          "--since-version V")
    if args.date is not None:
        day = parse_day(args.date, "--date")
        return day, day, None
    if args.since_version is not None:
        if args.since_version < 0:
            raise ConfigError(f"--since-version: must be 0 or more (value {args.since_version})")
        return None, None, args.since_version
    if not (args.start and args.end):
        raise ConfigError("--start/--end: give both")
    return (*_range(args), None)


def cmd_alerts(args: argparse.Namespace) -> int:
    from smb_pipeline.alerts.export import alerts_between, alerts_since, latest_version, write_json_lines
    from smb_pipeline.alerts.schema import ALERTS_TABLE
    from smb_pipeline.cli.commands import start_session

    config = load_config(args.config)
    start, end, since = _selection(args)
    spark = start_session(config, args, "smb_pipeline alerts")
    path = config.output.table_path(ALERTS_TABLE)
    latest = latest_version(spark, path)
    if latest is None:
        raise StorageError(f"no alerts table at {path}: run `smb-pipeline run` or `smb-pipeline detect` first")
    if since is not None and since > latest:
        raise ConfigError(f"--since-version: {since} is after the table's latest version {latest}")
    alerts = alerts_since(spark, path, since, latest) if since is not None else alerts_between(spark, path, start, end)
    if args.out:
        with Path(args.out).open("w") as out:
            count = write_json_lines(alerts, out, args.include_suppressed)
    else:
        count = write_json_lines(alerts, sys.stdout, args.include_suppressed)
        sys.stdout.flush()
    print(f"smb_alerts latest version: {latest}", file=sys.stderr)
    args.console.phase(f"{count} alert(s) written" + (f" to {args.out}" if args.out else ""))
    return 0


def add_alert_commands(commands) -> None:
    from smb_pipeline.cli.commands import add_session_arguments, add_wait_argument, examples_epilog

    detect = commands.add_parser(
        "detect", help="recompute the alerts of days from the stored pair table",
        description="Recompute the alerts of --start..--end from smb_allowed_daily (after an allowlist change or "
                    "a backfill of older days); replaces those days' alerts in smb_alerts, idempotently.",
        epilog=examples_epilog("smb-pipeline detect --config conf/example.yaml --start 2026-11-01 --end 2026-11-30"))
    detect.add_argument("--config", required=True, metavar="FILE", help="YAML configuration file")
    detect.add_argument("--start", required=True, metavar="DAY", help="first UTC day YYYY-MM-DD")
    detect.add_argument("--end", required=True, metavar="DAY", help="last UTC day YYYY-MM-DD")
    add_session_arguments(detect)
    add_wait_argument(detect)
    detect.set_defaults(handler=cmd_detect)

    alerts = commands.add_parser(
        "alerts", help="write alerts as JSON lines (by day, range, or since a table version)",
        description="Write alerts from smb_alerts as JSON lines, one object per alert with every column. With "
                    "--since-version, only alerts inserted or changed after that version (the change feed); the "
                    "latest version is printed on stderr so that the next call can resume from it.",
        epilog=examples_epilog("smb-pipeline alerts --config C --date 2026-11-27",
                         "smb-pipeline alerts --config C --start 2026-11-01 --end 2026-11-30 --out nov.jsonl",
                         "smb-pipeline alerts --config C --since-version 41 --include-suppressed"))
    alerts.add_argument("--config", required=True, metavar="FILE", help="YAML configuration file")
    alerts.add_argument("--date", metavar="DAY", help="alerts of one UTC day")
    alerts.add_argument("--start", metavar="DAY", help="first day of a range (with --end)")
    alerts.add_argument("--end", metavar="DAY", help="last day of a range (with --start)")
    alerts.add_argument("--since-version", type=int, metavar="V",
                        help="alerts inserted or changed after version V of smb_alerts")
    alerts.add_argument("--include-suppressed", action="store_true", help="also alerts the allowlist suppressed")
    alerts.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    add_session_arguments(alerts)
    alerts.set_defaults(handler=cmd_alerts)
