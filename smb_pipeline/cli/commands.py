"""The `smb-pipeline` command: run, backfill, maintain, generate, demo.

Errors a user can fix are one line on stderr: a bad config or argument exits 2, unreadable
input exits 1, output, storage or concurrency exits 3, SIGTERM/SIGINT 143/130
(smb_pipeline.cli.common). Spark is started only after the config and arguments are valid;
its output goes to the log file. `generate` and `demo` are in `cli.demo_commands`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from collections.abc import Sequence

from smb_pipeline import __version__
from smb_pipeline.cli.common import CommandParser, command_parser, run_handler
from smb_pipeline.cli.console import QUIET
from smb_pipeline.config import PipelineConfig, load_config, parse_day
from smb_pipeline.errors import ConfigError


def yesterday_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)


def resolve_days(args: argparse.Namespace, config: PipelineConfig) -> tuple[dt.date, dt.date]:
    """--start/--end: exactly that range. Otherwise the target day (--date, default yesterday
    UTC) and the `reprocess_days` before it, so late logs land in their own day."""
    if args.start or args.end:
        if not (args.start and args.end):
            raise ConfigError("--start/--end: give both, or use --date")
        if args.date:
            raise ConfigError("--date: use either --date or --start/--end")
        start, end = parse_day(args.start, "--start"), parse_day(args.end, "--end")
        if end < start:
            raise ConfigError(f"--end: {end} is before --start {start}")
        return start, end
    target = parse_day(args.date, "--date") if args.date else yesterday_utc()
    return target - dt.timedelta(days=config.reprocess_days), target


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE",
                        help="YAML configuration; relative paths in it resolve beside it")
    parser.add_argument("--date", metavar="DAY", help="target UTC day YYYY-MM-DD (default: yesterday); "
                                                      "the config's reprocess_days before it are redone too")
    parser.add_argument("--start", metavar="DAY", help="first UTC day of an explicit range (with --end)")
    parser.add_argument("--end", metavar="DAY", help="last UTC day of an explicit range (with --start)")
    add_wait_argument(parser)


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for another run holding some of the same days "
                             "(default 0: exit 3 at once, naming that run)")


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--master", default="local[*]",
                        help="Spark master; on a cluster use spark-submit with jobs/ instead")
    parser.add_argument("--remote", metavar="sc://HOST:PORT",
                        help="run on this Spark Connect server instead of a local JVM "
                             "(default: the config's spark_remote); --master is then not used")


def start_session(config: PipelineConfig, args: argparse.Namespace, app_name: str):
    """Start Spark with the engine's output going to the log file (smb_pipeline.cli.console), or
    connect to the Spark Connect server of --remote (or the config's spark_remote)."""
    from smb_pipeline.cli.console import engine_output_to_log
    from smb_pipeline.engine.remote import check_reachable
    from smb_pipeline.engine.session import build_spark_session

    console = args.console
    remote, field = (args.remote, "--remote") if getattr(args, "remote", None) else (config.spark_remote,
                                                                                      "spark_remote")
    if remote:
        endpoint = check_reachable(remote, field)
        console.phase(f"connecting to Spark Connect at {endpoint}; engine log: {console.log_file}")
    else:
        console.phase(f"starting Spark ({args.master or 'from spark-submit'}); engine log: {console.log_file}")
    with engine_output_to_log(console):
        spark = build_spark_session(app_name, master=args.master, spark_conf=config.spark,
                                    delta_packages=config.delta_packages, remote=remote)
    return spark


def _progress(spark, args: argparse.Namespace):
    from smb_pipeline.cli.progress import ProgressReporter, status_tracker

    console = args.console
    return ProgressReporter(status_tracker(spark) if console.mode != QUIET else None, console.progress,
                            interactive=console.err.isatty())


def run_and_report(spark, config: PipelineConfig, start: dt.date, end: dt.date, args: argparse.Namespace,
                    command: str, wait_seconds: float = 0.0):
    from smb_pipeline.cli.summary import format_summary, summary_data
    from smb_pipeline.operations.runlog import logged_run

    args.console.phase(f"processing {start} .. {end}: {len(config.sources)} source(s)")
    with _progress(spark, args):
        result = logged_run(spark, config, start, end, command=command, wait_seconds=wait_seconds)
    args.console.phase(f"done in {args.console.elapsed:.1f} s")
    args.console.summary(format_summary(result), summary_data(result))
    return result


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    start, end = resolve_days(args, config)
    spark = start_session(config, args, "smb_pipeline run")
    run_and_report(spark, config, start, end, args, "run", args.wait)
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from smb_pipeline.operations.backfill import backfill

    config = load_config(args.config)
    start, end = parse_day(args.start, "--start"), parse_day(args.end, "--end")
    if end < start:
        raise ConfigError(f"--end: {end} is before --start {start}")
    if args.batch_days < 1:
        raise ConfigError(f"--batch-days: must be at least 1 (value {args.batch_days})")
    spark = start_session(config, args, "smb_pipeline backfill")
    with _progress(spark, args):
        progress = backfill(spark, config, start, end, args.batch_days, args.force, report=args.console.phase,
                            wait_seconds=args.wait)
    args.console.summary(
        f"backfill done: {progress.days_done} days ({progress.days_skipped} skipped as unchanged), "
        f"{progress.rows:,} rows in {progress.seconds:.1f} s",
        {"start": start.isoformat(), "end": end.isoformat(), "days_done": progress.days_done,
         "days_skipped": progress.days_skipped, "rows_read": progress.rows, "run_seconds": progress.seconds})
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    from smb_pipeline.operations.maintenance import check_retention, maintain

    config = load_config(args.config)
    flag = args.retention_hours is not None
    hours = args.retention_hours if flag else config.maintenance.vacuum_retention_hours
    check_retention(hours, args.force_retention,
                    "--retention-hours" if flag else "maintenance.vacuum_retention_hours")
    spark = start_session(config, args, "smb_pipeline maintain")
    with _progress(spark, args):
        reports = maintain(spark, config, dt.datetime.now(dt.timezone.utc).date(), hours, args.force_retention)
    args.console.summary("\n".join(r.line() for r in reports) or "nothing to maintain: no tables yet",
                         {"tables": [dataclasses.asdict(r) for r in reports]})
    return 0


TOP_EPILOG = """\
examples:
  smb-pipeline demo                                        # demo data, a local run, the top pairs
  smb-pipeline run --config conf/example.yaml              # yesterday (UTC) + reprocess_days before it
  smb-pipeline run --config conf/example.yaml --date 2026-11-27 --quiet --summary-json summary.json
  smb-pipeline backfill --config conf/example.yaml --start 2026-11-01 --end 2026-11-30
  smb-pipeline COMMAND --help

exit codes:
  0  success
  1  unreadable input (names source, file, column), or an unexpected failure
  2  invalid configuration or arguments (one line naming the field or option)
  3  output, storage or concurrency (the tables are left as they were)

Spark, Ivy and py4j output goes to the log file (./smb-pipeline.log or --log-file); the
console shows phases, progress and the summary. Tracebacks only with --debug.
"""


def examples_epilog(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    from smb_pipeline.alerts.commands import add_alert_commands
    from smb_pipeline.bi.commands import add_bi_commands
    from smb_pipeline.cli.demo_commands import add_demo_commands

    parser = command_parser("smb-pipeline", __doc__.splitlines()[0], TOP_EPILOG)
    parser.add_argument("--version", action="version", version=f"smb-pipeline {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=CommandParser)
    for add in (_add_run, _add_backfill, _add_maintain, add_demo_commands, add_bi_commands, add_alert_commands):
        add(commands)
    return parser


def _add_run(commands) -> None:
    run = commands.add_parser(
        "run", help="process days of every source into the Delta tables",
        description="Process UTC days of every source into the Delta tables and print the summary.",
        epilog=examples_epilog("smb-pipeline run --config conf/example.yaml",
                         "smb-pipeline run --config conf/example.yaml --date 2026-11-27",
                         "smb-pipeline run --config conf/example.yaml --start 2026-11-01 --end 2026-11-07"))
    add_run_arguments(run)
    add_session_arguments(run)
    run.set_defaults(handler=cmd_run)


def _add_backfill(commands) -> None:
    backfill = commands.add_parser(
        "backfill", help="process a long range of days in batches, resumably",
        description="Process a range of days in batches; days whose inputs and config did not change since "
                    "their last successful run are skipped, so a killed backfill resumes.",
        epilog=examples_epilog("smb-pipeline backfill --config conf/example.yaml --start 2026-01-01 --end 2026-06-30",
                         "smb-pipeline backfill --config C --start 2026-11-01 --end 2026-11-07 --force"))
    backfill.add_argument("--config", required=True, metavar="FILE", help="YAML configuration file")
    backfill.add_argument("--start", required=True, metavar="DAY", help="first UTC day YYYY-MM-DD")
    backfill.add_argument("--end", required=True, metavar="DAY", help="last UTC day YYYY-MM-DD")
    backfill.add_argument("--batch-days", type=int, default=7, metavar="N", help="days per batch")
    backfill.add_argument("--force", action="store_true", help="redo days whose inputs did not change")
    add_session_arguments(backfill)
    add_wait_argument(backfill)
    backfill.set_defaults(handler=cmd_backfill)


def _add_maintain(commands) -> None:
    maintain = commands.add_parser(
        "maintain", help="compact + Z-order recent partitions, vacuum old files",
        description="OPTIMIZE ... ZORDER BY the last maintenance.recent_days partitions, then VACUUM.",
        epilog=examples_epilog("smb-pipeline maintain --config conf/example.yaml",
                         "smb-pipeline maintain --config C --retention-hours 24 --force-retention"))
    maintain.add_argument("--config", required=True, metavar="FILE", help="YAML configuration file")
    maintain.add_argument("--retention-hours", type=int, metavar="H",
                          help="vacuum retention in hours (default: maintenance.vacuum_retention_hours, 168)")
    maintain.add_argument("--force-retention", action="store_true",
                          help="allow a retention below Delta's safe 168 h")
    add_session_arguments(maintain)
    maintain.set_defaults(handler=cmd_maintain)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_handler(args.handler, args)


def job_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `jobs/smb_traffic_allowed.py` under spark-submit: the master comes from spark-submit."""
    parser = command_parser("smb_traffic_allowed.py", "Nightly allowed-SMB job")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    args.master = None
    args.command = "run"
    return run_handler(cmd_run, args)
