"""What every command shares: the global options, one-line errors, exit codes, the console.

A subcommand added with `commands.add_parser(...)` (the subparsers of `command_parser`) gets
--verbose, --quiet, --debug, --log-file and --summary-json, the help layout and the one-line
argument errors without doing anything; its handler receives `args.console`.

Exit codes: 0 success; 1 unreadable input (and any unexpected failure); 2 invalid
configuration or arguments; 3 output, storage or concurrency; 128 + n when signal n stopped
the run (143 SIGTERM, 130 SIGINT). An exception class that is
not listed in `EXIT_CODES` may carry its own `exit_code` (and `label`) attributes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from smb_pipeline.cli.console import DEFAULT_LOG_FILE, NORMAL, QUIET, VERBOSE, Console, console_logging
from smb_pipeline.errors import ConfigError, InputError, RunTerminated, StorageError

EXIT_INPUT = 1
EXIT_CONFIG = 2
EXIT_OUTPUT = 3

# (exception class, exit code, label of the one-line message); the first match wins.
EXIT_CODES: list[tuple[type[BaseException], int, str]] = [
    (ConfigError, EXIT_CONFIG, "config error"),
    (InputError, EXIT_INPUT, "input error"),
    (StorageError, EXIT_OUTPUT, "output error"),  # ConcurrencyError included
]

log = logging.getLogger("smb_pipeline")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults after each option's help; descriptions and examples laid out as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help  # nothing to show, or the help already says it
        return super()._get_help_string(action)


def add_global_options(parser: argparse.ArgumentParser, suppress_defaults: bool) -> None:
    """The options every command accepts, before or after the command name.

    On subcommands the defaults are suppressed, so that an option given before the command
    (`smb-pipeline --quiet run ...`) is not reset by the subcommand's own default.
    """
    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress_defaults else value

    group = parser.add_argument_group("console and diagnostics (every command)")
    group.add_argument("-v", "--verbose", action="store_true", default=default(False),
                       help="also show Spark, Ivy and py4j output and every log record on the console")
    group.add_argument("-q", "--quiet", action="store_true", default=default(False),
                       help="print only the summary (no phase or progress lines)")
    group.add_argument("--debug", action="store_true", default=default(False),
                       help="print the traceback of a failure (it is always in the log file)")
    group.add_argument("--log-file", metavar="FILE", default=default(None),
                       help=f"engine and library log (default ./{DEFAULT_LOG_FILE} in the working directory)")
    group.add_argument("--summary-json", metavar="FILE", default=default(None),
                       help="also write the summary as JSON (status, exit code, counts) for schedulers")


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit 2, and whose
    subcommands all carry the global options."""

    def __init__(self, *args, global_defaults: bool = False, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        add_global_options(self, suppress_defaults=not global_defaults)

    def error(self, message: str):
        self.exit(EXIT_CONFIG, f"{self.prog}: argument error: {message} (see {self.prog} --help)\n")


def command_parser(prog: str, description: str, epilog: str | None = None) -> CommandParser:
    """The top-level parser; `parser.add_subparsers(...)` gives commands with the global options."""
    return CommandParser(prog=prog, description=description, epilog=epilog, global_defaults=True)


def make_console(args: argparse.Namespace) -> Console:
    if args.quiet and args.verbose:
        raise ConfigError("--quiet/--verbose: give one of them, not both")
    mode = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    log_file = Path(args.log_file or DEFAULT_LOG_FILE).resolve()
    summary_json = Path(args.summary_json).resolve() if args.summary_json else None
    return Console(mode, log_file, summary_json)


def exit_code_for(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, RunTerminated):  # 128 + the signal's number, like a shell
        return exc.exit_code, "stopped"
    for kind, code, label in EXIT_CODES:
        if isinstance(exc, kind):
            return code, label
    own_code = getattr(exc, "exit_code", None)
    if isinstance(own_code, int):
        return own_code, str(getattr(exc, "label", "error"))
    return EXIT_INPUT, f"unexpected error ({type(exc).__name__})"


def error_line(exc: BaseException) -> str:
    """The line of an error a person needs. A gRPC error (Spark Connect) starts with a line
    that says nothing; its status and details follow."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()] or [type(exc).__name__]
    if lines[0].startswith("<_InactiveRpcError"):
        fields = dict(line.split(" = ", 1) for line in lines[1:] if " = " in line)
        if "details" in fields:
            return f"{fields.get('status', 'gRPC error')}: {fields['details'].strip(chr(34))}"
    return lines[0]


def run_handler(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command with its console; any failure is one line on stderr and an exit code."""
    try:
        console = make_console(args)
    except ConfigError as exc:
        print(f"smb-pipeline: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    args.console = console
    with console_logging(console):
        return _run_with_console(handler, args, console)


def _run_with_console(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace,
                      console: Console) -> int:
    command = getattr(args, "command", None) or "run"
    try:
        code = handler(args)
    except Exception as exc:
        code, label = exit_code_for(exc)
        first_line = error_line(exc)
        if code != EXIT_CONFIG:  # a config or argument error is checked before anything ran: no log needed
            log.error("%s failed: %s", command, first_line)
            _log_traceback(exc)
        if args.debug:
            traceback.print_exc()
        if isinstance(exc, RunTerminated):
            first_line = f"{first_line}; the run's days are as before the run"
        print(f"smb-pipeline: {label}: {first_line}", file=sys.stderr)
        console.write_summary_json(command, code, f"{label}: {first_line}")
        return code
    console.write_summary_json(command, code)
    return code


def _log_traceback(exc: BaseException) -> None:
    """The full traceback goes to the log file whatever the mode; the console shows it with --debug."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.FileHandler) and handler.stream is not None:
            handler.stream.write("".join(traceback.format_exception(exc)))
            handler.flush()
