"""The `smb-pipeline` command: run, backfill, maintain, generate, demo.

Errors a user can fix are one line on stderr: a bad config or date exits 2, unreadable
input exits 1, output/storage/concurrency exits 3, SIGTERM/SIGINT 143/130.
Spark is started only after the config and arguments are valid.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from smb_pipeline import __version__
from smb_pipeline.config import PipelineConfig, load_config, parse_day
from smb_pipeline.errors import ConfigError, InputError, RunTerminated, StorageError

EXIT_CONFIG = 2
EXIT_INPUT = 1
EXIT_STORAGE = 3


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
    parser.add_argument("--config", required=True, help="YAML configuration file")
    parser.add_argument("--date", help="target UTC day YYYY-MM-DD (default: yesterday); "
                                       "the config's reprocess_days before it are redone too")
    parser.add_argument("--start", help="first UTC day of an explicit range (with --end)")
    parser.add_argument("--end", help="last UTC day of an explicit range (with --start)")
    add_wait_argument(parser)


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for another run holding some of the same days "
                             "(default 0: exit 3 at once, naming that run)")


def _session(config: PipelineConfig, master: str | None, app_name: str):
    from smb_pipeline.session import build_spark_session

    return build_spark_session(app_name, master=master, spark_conf=config.spark,
                               delta_packages=config.delta_packages)


def run_command(config: PipelineConfig, start: dt.date, end: dt.date, master: str | None,
                wait_seconds: float = 0.0) -> int:
    """Build the session, run the days (recorded in the run log), print the summary."""
    from smb_pipeline.runlog import logged_run
    from smb_pipeline.summary import format_summary

    spark = _session(config, master, "smb_pipeline run")
    result = logged_run(spark, config, start, end, command="run", wait_seconds=wait_seconds)
    print(format_summary(result))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from smb_pipeline.backfill import backfill

    config = load_config(args.config)
    start, end = parse_day(args.start, "--start"), parse_day(args.end, "--end")
    if end < start:
        raise ConfigError(f"--end: {end} is before --start {start}")
    if args.batch_days < 1:
        raise ConfigError(f"--batch-days: must be at least 1 (value {args.batch_days})")
    spark = _session(config, args.master, "smb_pipeline backfill")
    progress = backfill(spark, config, start, end, args.batch_days, args.force,
                        report=lambda line: print(line, flush=True), wait_seconds=args.wait)
    print(f"backfill done: {progress.days_done} days ({progress.days_skipped} skipped as unchanged), "
          f"{progress.rows:,} rows in {progress.seconds:.1f} s")
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    from smb_pipeline.maintenance import check_retention, maintain

    config = load_config(args.config)
    hours = config.maintenance.vacuum_retention_hours if args.retention_hours is None else args.retention_hours
    check_retention(hours, args.force_retention)
    spark = _session(config, args.master, "smb_pipeline maintain")
    for report in maintain(spark, config, dt.datetime.now(dt.timezone.utc).date(), hours, args.force_retention):
        print(report.line())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    start, end = resolve_days(args, config)
    return run_command(config, start, end, args.master, args.wait)


def _first_demo_day(days: int, first_day: str | None) -> dt.date:
    if days < 1:
        raise ConfigError(f"--days: must be at least 1 (value {days})")
    return parse_day(first_day, "--first-day") if first_day else yesterday_utc() - dt.timedelta(days=days - 1)


def cmd_generate(args: argparse.Namespace) -> int:
    """One cim archive in --out, or with --formats one archive per format in --out/<format>."""
    from smb_pipeline.generate_vendors import RENDERERS, generate_vendor_archive

    first = _first_demo_day(args.days, args.first_day)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()] if args.formats else None
    for fmt in formats or []:
        if fmt != "cim" and fmt not in RENDERERS:
            raise ConfigError(f"--formats: no demo generator for {fmt!r} (have: cim, {', '.join(RENDERERS)})")
    targets = [(fmt, Path(args.out) / fmt) for fmt in formats] if formats else [("cim", Path(args.out))]
    for fmt, out in targets:
        generate_vendor_archive(out, fmt, args.days, args.rows_per_day, args.seed, first)
        print(f"wrote {args.days} day(s) from {first} of {fmt} demo data to {out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate one demo archive per source under --workdir, run the job over them, print the top pairs."""
    from smb_pipeline.generate_vendors import generate_vendor_archive

    workdir = Path(args.workdir).resolve()
    config = load_config(args.config)
    sources = [s.model_copy(update={"path": str(workdir / "archive" / s.name)}) for s in config.sources]
    config = config.model_copy(update={"sources": tuple(sources),
                                       "output": config.output.model_copy(update={"path": str(workdir / "lake")})})
    first = _first_demo_day(args.days, None)
    days = [first + dt.timedelta(days=offset) for offset in range(args.days)]
    for source in config.sources:
        generate_vendor_archive(source.path, source.format, args.days, args.rows_per_day, args.seed, first)
        print(f"demo archive: {args.days} day(s) of {source.format} data in {source.path}")
    from smb_pipeline.runlog import logged_run
    from smb_pipeline.summary import format_summary

    spark = _session(config, args.master, "smb_pipeline demo")
    result = logged_run(spark, config, days[0], days[-1], command="demo")
    print(format_summary(result))
    top = (
        spark.read.format("delta").load(result.tables["smb_allowed_daily"])
        .groupBy("src_ip", "dest_ip").sum("connection_count")
        .withColumnRenamed("sum(connection_count)", "connections")
        .orderBy("connections", ascending=False).limit(10)
    )
    print("top pairs (allowed SMB from outside the company):")
    for row in top.collect():  # ten rows of the (already small) pair table
        print(f"  {row.src_ip:>40} -> {row.dest_ip:<20} {row.connections:>6} connections")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smb-pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"smb-pipeline {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="process days of every source into the Delta tables")
    add_run_arguments(run)
    run.add_argument("--master", default="local[*]", help="Spark master (default local[*]); "
                                                          "use spark-submit with jobs/ on a cluster")
    run.set_defaults(handler=cmd_run)

    backfill = commands.add_parser("backfill", help="process a long range of days in batches, resumably")
    backfill.add_argument("--config", required=True, help="YAML configuration file")
    backfill.add_argument("--start", required=True, help="first UTC day YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="last UTC day YYYY-MM-DD")
    backfill.add_argument("--batch-days", type=int, default=7, help="days per batch (default 7)")
    backfill.add_argument("--force", action="store_true", help="redo days whose inputs did not change")
    backfill.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    add_wait_argument(backfill)
    backfill.set_defaults(handler=cmd_backfill)

    maintain = commands.add_parser("maintain", help="compact + Z-order recent partitions, vacuum old files")
    maintain.add_argument("--config", required=True, help="YAML configuration file")
    maintain.add_argument("--retention-hours", type=int, help="vacuum retention (default: config, 168 h)")
    maintain.add_argument("--force-retention", action="store_true",
                          help="allow a retention below Delta's safe 168 h")
    maintain.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    maintain.set_defaults(handler=cmd_maintain)

    generate = commands.add_parser("generate", help="write a deterministic demo archive in cim format")
    generate.add_argument("--out", required=True, help="directory to write dt=YYYY-MM-DD/ folders into")
    generate.add_argument("--days", type=int, default=7)
    generate.add_argument("--rows-per-day", type=int, default=20_000)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--first-day", help="first day YYYY-MM-DD (default: days ending yesterday UTC)")
    generate.add_argument("--formats", help="comma list of formats (cim, panos, fortigate, cisco_asa, "
                                            "aws_vpc_flow, zeek_conn): one archive each in OUT/<format>")
    generate.set_defaults(handler=cmd_generate)

    demo = commands.add_parser("demo", help="generate demo data, run the job on it locally, show the top pairs")
    demo.add_argument("--workdir", default="./demo", help="where the archive and the lake go (default ./demo)")
    demo.add_argument("--config", default="conf/demo.yaml", help="demo configuration (default conf/demo.yaml)")
    demo.add_argument("--days", type=int, default=3)
    demo.add_argument("--rows-per-day", type=int, default=10_000, help="rows per day and source")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--master", default="local[*]")
    demo.set_defaults(handler=cmd_demo)

    from smb_pipeline.bi.commands import add_bi_commands

    add_bi_commands(commands)
    return parser


def _handle(handler, args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"smb-pipeline: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except InputError as exc:
        print(f"smb-pipeline: input error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except StorageError as exc:
        print(f"smb-pipeline: output error: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    except RunTerminated as exc:
        print(f"smb-pipeline: {exc}; the run's days are as before the run", file=sys.stderr)
        return exc.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return _handle(args.handler, args)


def job_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `jobs/smb_traffic_allowed.py` under spark-submit: the master comes from spark-submit."""
    parser = argparse.ArgumentParser(prog="smb_traffic_allowed.py", description="Nightly allowed-SMB job")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    args.master = None
    return _handle(cmd_run, args)


if __name__ == "__main__":
    sys.exit(main())
