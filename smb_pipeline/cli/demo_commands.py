"""The demo commands: `generate` writes deterministic demo archives, `demo` also runs the job on them.

They need the demo generators (`smb_pipeline.demo`), which a production run never imports.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from smb_pipeline.cli.commands import (
    add_session_arguments,
    examples_epilog,
    run_and_report,
    start_session,
    yesterday_utc,
)
from smb_pipeline.config import PipelineConfig, demo_config_path, load_config, parse_day
from smb_pipeline.demo.stories import DEMO_DAYS
from smb_pipeline.errors import ConfigError

MIN_ROWS_PER_DAY = 100  # the generator's smallest day: its fixed SMB cases need room


def add_demo_commands(commands) -> None:
    _add_generate(commands)
    _add_demo(commands)


def _check_days_and_rows(days: int, rows_per_day: int) -> None:
    if days < 1:
        raise ConfigError(f"--days: must be at least 1 (value {days})")
    if rows_per_day < MIN_ROWS_PER_DAY:
        raise ConfigError(f"--rows-per-day: must be at least {MIN_ROWS_PER_DAY} (value {rows_per_day})")


def _first_demo_day(days: int, first_day: str | None) -> dt.date:
    return parse_day(first_day, "--first-day") if first_day else yesterday_utc() - dt.timedelta(days=days - 1)


def cmd_generate(args: argparse.Namespace) -> int:
    """One cim archive in --out, or with --formats one archive per format in --out/<format>."""
    from smb_pipeline.demo.vendors import RENDERERS, generate_vendor_archive

    _check_days_and_rows(args.days, args.rows_per_day)
    first = _first_demo_day(args.days, args.first_day)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()] if args.formats else None
    for fmt in formats or []:
        if fmt != "cim" and fmt not in RENDERERS:
            raise ConfigError(f"--formats: no demo generator for {fmt!r} (have: cim, {', '.join(RENDERERS)})")
    targets = [(fmt, Path(args.out) / fmt) for fmt in formats] if formats else [("cim", Path(args.out))]
    for fmt, out in targets:
        generate_vendor_archive(out, fmt, args.days, args.rows_per_day, args.seed, first)
        args.console.summary(f"wrote {args.days} day(s) from {first} of {fmt} demo data to {out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate one demo archive per source under --workdir, run the job over them, print the top pairs."""
    from smb_pipeline.demo.vendors import generate_vendor_archive
    from smb_pipeline.storage.delta_io import read_table

    _check_days_and_rows(args.days, args.rows_per_day)
    workdir = Path(args.workdir).resolve()
    first = _first_demo_day(args.days, None)
    config = demo_run_config(args.config, workdir, first)
    written = write_demo_config(config, workdir)
    for source in config.sources:
        generate_vendor_archive(source.path, source.format, args.days, args.rows_per_day, args.seed, first,
                                stories=True)
    args.console.phase(f"demo archives: {args.days} day(s) of {len(config.sources)} formats in {workdir / 'archive'}")
    spark = start_session(config, args, "smb_pipeline demo")
    result = run_and_report(spark, config, first, first + dt.timedelta(days=args.days - 1), args, "demo")
    top = (
        read_table(spark, result.tables["smb_allowed_daily"])
        .groupBy("src_ip", "dest_ip").sum("connection_count")
        .withColumnRenamed("sum(connection_count)", "connections")
        .orderBy("connections", ascending=False).limit(10)
    )
    lines = ["top pairs (allowed SMB across the company's edge, both ways):"]
    for row in top.collect():  # ten rows of the (already small) pair table
        lines.append(f"  {row.src_ip:>40} -> {row.dest_ip:<20} {row.connections:>6} connections")
    from smb_pipeline.alerts.report import alert_lines

    lines.extend(alert_lines(spark, config.output.table_path("smb_alerts"), first,
                             first + dt.timedelta(days=args.days - 1), str(written), limit=DEMO_ALERT_LINES))
    lines.append(f"the demo's config (for pairs, report, serve-sql and the notebook): {written}")
    args.console.summary("\n".join(lines))
    return 0


# Enough lines for every story alert of the demo month (the rest is low or suppressed).
DEMO_ALERT_LINES = 80


def demo_run_config(config_file: str | None, workdir: Path, first: dt.date) -> PipelineConfig:
    """The demo's config with its archives and lake under `workdir`. With the shipped config, its
    allowlist is copied to the workdir with the expiry dates moved into the demo's month."""
    from smb_pipeline.alerts.allowlist import read_allowlist
    from smb_pipeline.alerts.settings import DETECTIONS
    from smb_pipeline.demo.stories import write_demo_allowlist

    config = load_config(config_file or demo_config_path())
    sources = [s.model_copy(update={"path": str(workdir / "archive" / s.name)}) for s in config.sources]
    config = config.model_copy(update={"sources": tuple(sources),
                                       "output": config.output.model_copy(update={"path": str(workdir / "lake")})})
    if config_file is not None or not config.alerts.allowlist:
        return config
    moved = write_demo_allowlist(config.alerts.allowlist, workdir / "allowlist.yaml", first)
    alerts = config.alerts.model_copy(update={"allowlist": str(moved),
                                              "allowlist_entries": read_allowlist(moved, DETECTIONS)})
    return config.model_copy(update={"alerts": alerts})


def write_demo_config(config: PipelineConfig, workdir: Path) -> Path:
    """Save the demo's effective config (absolute paths) as <workdir>/demo.yaml, so that the
    analysts' commands and the notebook can be pointed at the demo lake."""
    import yaml

    path = workdir / "demo.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by `smb-pipeline demo`: the configuration of the demo run (paths are absolute).\n"
    path.write_text(header + yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return path


def _add_generate(commands) -> None:
    from smb_pipeline.demo.vendors import RENDERERS

    formats = ", ".join(["cim", *RENDERERS])
    generate = commands.add_parser(
        "generate", help="write deterministic demo archives (any generated format)",
        description=f"Write deterministic demo archives in dt=YYYY-MM-DD/ folders. Formats: {formats}.",
        epilog=examples_epilog("smb-pipeline generate --out /tmp/cim",
                         "smb-pipeline generate --out /tmp/archives --formats panos,zeek_conn --days 3"))
    generate.add_argument("--out", required=True, metavar="DIR",
                          help="directory to write dt=YYYY-MM-DD/ folders into (OUT/<format> with --formats)")
    generate.add_argument("--days", type=int, default=7, metavar="N", help="number of days")
    generate.add_argument("--rows-per-day", type=int, default=20_000, metavar="N",
                          help=f"rows per day and format (at least {MIN_ROWS_PER_DAY})")
    generate.add_argument("--seed", type=int, default=7, help="random seed; the same seed writes the same rows")
    generate.add_argument("--first-day", metavar="DAY", help="first day YYYY-MM-DD (default: days ending yesterday)")
    generate.add_argument("--formats", metavar="LIST",
                          help=f"comma list of formats, one archive each in OUT/<format> ({formats}); "
                               "default: one cim archive in OUT")
    generate.set_defaults(handler=cmd_generate)


def _add_demo(commands) -> None:
    demo = commands.add_parser(
        "demo", help="generate demo data, run the job on it locally, show the top pairs",
        description="Generate demo archives (one per vendor format of the demo config) under --workdir, run the "
                    "job over them in local mode into WORKDIR/lake, and print the summary and the top pairs.",
        epilog=examples_epilog("smb-pipeline demo",
                               "smb-pipeline demo --workdir /tmp/demo --days 1 --rows-per-day 500"))
    demo.add_argument("--workdir", default="./demo", metavar="DIR", help="where the archives and the lake go")
    demo.add_argument("--config", metavar="FILE", help="demo configuration (default: the one shipped in the package)")
    demo.add_argument("--days", type=int, default=DEMO_DAYS, metavar="N",
                      help="days of demo data, ending yesterday (a month: the stories need history)")
    demo.add_argument("--rows-per-day", type=int, default=1_000, metavar="N",
                      help=f"rows per day and source (at least {MIN_ROWS_PER_DAY})")
    demo.add_argument("--seed", type=int, default=7, help="random seed")
    add_session_arguments(demo)
    demo.set_defaults(handler=cmd_demo)
