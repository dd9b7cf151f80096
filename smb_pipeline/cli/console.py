"""What a person sees on the terminal: phases, progress on long work, the summary; nothing else.

Engine output goes to a log file: our own and py4j's Python logging through a file handler,
and everything the JVM writes (log4j2's console appender, Ivy's resolution report, Delta's
`println`s) through the file descriptors the spark-submit child inherits. pyspark starts that
child with the Python process's stdout and stderr, so pointing fds 1 and 2 at the log file
while the session starts routes all of it, whatever the log4j2 or Ivy configuration (the
user's own log4j2 file keeps working, it only writes into our file). The descriptors are
restored as soon as the child runs: the terminal is ours again, the child keeps the file.

Modes: `quiet` prints only the summary; `normal` adds one line per phase (with the elapsed
time) and a progress line for phases longer than a few seconds; `verbose` also shows the
engine's output and every log record on the console.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

QUIET, NORMAL, VERBOSE = "quiet", "normal", "verbose"
DEFAULT_LOG_FILE = "smb-pipeline.log"
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
PROGRESS_AFTER_SECONDS = 3.0

log = logging.getLogger("smb_pipeline")


class Console:
    """Phase and progress lines on stderr, the summary on stdout (so `> file` keeps just the summary)."""

    def __init__(self, mode: str = NORMAL, log_file: Path | None = None, summary_json: Path | None = None,
                 err: TextIO | None = None, out: TextIO | None = None):
        self.mode = mode
        self.log_file = log_file
        self.summary_json = summary_json
        self.err = err or sys.stderr
        self.out = out or sys.stdout
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._progress_shown = False
        self._summaries: list[dict[str, Any]] = []

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _write_err(self, text: str, in_place: bool = False) -> None:
        with self._lock:
            if self._progress_shown:  # a progress line being updated in place ends here
                self.err.write("\r\033[K" if in_place else "\n")
                self._progress_shown = False
            self.err.write(text if in_place else text + "\n")
            self._progress_shown = in_place
            self.err.flush()

    def phase(self, text: str) -> None:
        """One line per phase, with the time since the command started."""
        if self.mode != QUIET:
            self._write_err(f"[{self.elapsed:6.1f} s] {text}")

    def progress(self, text: str) -> None:
        """A progress line: updated in place on a terminal, one line each time otherwise."""
        if self.mode != QUIET:
            self._write_err(f"[{self.elapsed:6.1f} s]   {text}", in_place=self.err.isatty())

    def summary(self, text: str, data: dict[str, Any] | None = None) -> None:
        """The command's result: always printed (even with --quiet), and kept for --summary-json."""
        with self._lock:
            if self._progress_shown:
                self.err.write("\n")
                self._progress_shown = False
        print(text, file=self.out, flush=True)
        if data is not None:
            self._summaries.append(data)

    def write_summary_json(self, command: str, exit_code: int, error: str | None = None) -> None:
        """The summary as JSON for schedulers: status, exit code, and what the command reported."""
        if self.summary_json is None:
            return
        document: dict[str, Any] = {
            "command": command,
            "status": "succeeded" if exit_code == 0 else "failed",
            "exit_code": exit_code,
            "error": error,
            "elapsed_seconds": round(self.elapsed, 3),
            "log_file": str(self.log_file) if self.log_file else None,
        }
        for data in self._summaries:
            document.update(data)
        self.summary_json.parent.mkdir(parents=True, exist_ok=True)
        self.summary_json.write_text(json.dumps(document, indent=2, default=str) + "\n")


class _PhaseHandler(logging.Handler):
    """Shows the library's INFO records (its phase announcements) as phase lines and its warnings
    (waiting for another run, a signal received); errors are the command's one-line message."""

    def __init__(self, console: Console):
        super().__init__(logging.INFO)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.INFO:
            self.console.phase(record.getMessage())
        elif record.levelno == logging.WARNING:
            self.console.phase(f"warning: {record.getMessage()}")


class _NotPhases(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        shown = record.levelno in (logging.INFO, logging.WARNING)
        return not (record.name.startswith("smb_pipeline") and shown)


@contextlib.contextmanager
def console_logging(console: Console) -> Iterator[None]:
    """Every Python log record (ours, py4j's, warnings) to the log file; phases to the console;
    with --verbose the other records too. The logging set-up before the command is restored
    afterwards, so a command run in-process (a notebook, a test) leaves no handler behind."""
    root = logging.getLogger()
    library = logging.getLogger("smb_pipeline")
    saved_root = (list(root.handlers), root.level)
    for handler in saved_root[0]:
        root.removeHandler(handler)
    root.setLevel(logging.INFO)
    added: list[logging.Handler] = []
    if console.log_file is not None:
        console.log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(console.log_file, encoding="utf-8", delay=True)
        file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        added.append(file_handler)
    if console.mode == VERBOSE:
        stream = logging.StreamHandler(console.err)
        stream.setFormatter(logging.Formatter(LOG_FORMAT))
        stream.addFilter(_NotPhases())
        added.append(stream)
    for handler in added:
        root.addHandler(handler)
    phases = _PhaseHandler(console)
    library.addHandler(phases)
    logging.captureWarnings(True)
    try:
        yield
    finally:
        logging.captureWarnings(False)
        library.removeHandler(phases)
        for handler in added:
            root.removeHandler(handler)
            handler.close()
        for handler in saved_root[0]:
            root.addHandler(handler)
        root.setLevel(saved_root[1])


@contextlib.contextmanager
def engine_output_to_log(console: Console) -> Iterator[None]:
    """Point fds 1 and 2 at the log file while the JVM starts, so that the child inherits them.

    Not in verbose mode (the engine then talks on the console), nor without a log file.
    """
    if console.mode == VERBOSE or console.log_file is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    target = os.open(console.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        for fd in (1, 2):
            os.dup2(target, fd)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(target)


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
