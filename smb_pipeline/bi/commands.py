"""The analysts' subcommands of `smb-pipeline`: serve-sql, pairs, report.

`add_bi_commands` is the one hook into the main parser; each handler loads the config,
checks its arguments before Spark starts (exit 2 on a bad one) and reports output or
endpoint failures as one line with exit code 3.
"""

from __future__ import annotations

import argparse
import sys

from smb_pipeline.config import load_config
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


def add_bi_commands(commands) -> None:
    """Add serve-sql, pairs and report to the subparsers of `smb-pipeline`."""
    serve = commands.add_parser("serve-sql", help="SQL endpoint (Spark Thrift Server, HiveServer2) for BI tools")
    serve.add_argument("--config", required=True, help="YAML configuration file")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)")
    serve.add_argument("--port", type=int, default=10000, help="port to listen on (default 10000)")
    serve.add_argument("--days", type=int, default=7, help="days in the smb_pairs_latest view (default 7)")
    serve.add_argument("--master", default="local[*]", help="Spark master of the server (default local[*])")
    serve.set_defaults(handler=cmd_serve_sql)

