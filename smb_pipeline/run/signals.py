"""SIGTERM and SIGINT stop a run at its next safe point, never in the middle of a commit.

The handler only records the signal and, while the run computes, cancels the session's
running Spark jobs from a helper thread (`SparkSession.interruptAll`, public API in classic
mode and Spark Connect alike since Spark 4.0). The run then stops at the next
`checkpoint`: before computing, before the first commit, between the two commits (the
first is undone by a compensating commit), with RunTerminated ("terminated by SIGTERM",
exit 128 + signal). A signal that arrives after the second commit lets the run finish.
Undo and the run log are written with signals still deferred, so they complete.

What reaches the JVM: pyspark starts its JVM with SIGINT ignored, so Ctrl-C and SIGINT
reach only Python. SIGTERM sent to the Python process alone (`kill PID`, a container's
main process) is handled as above. SIGTERM sent to the whole process group also stops the
JVM at once; the run then ends like a SIGKILL: nothing is undone or logged by it, its claim
goes stale (at once on this host, after the lease elsewhere) and the next run of those days
logs it `abandoned` and rewrites the days in both tables.

Test hook (test-only, never set in production): SMB_PIPELINE_TEST_PAUSE_AT=<stage> makes
the run log "test pause at <stage>" and sleep there up to SMB_PIPELINE_TEST_PAUSE_SECONDS
(default 60), until a signal arrives, or until the file SMB_PIPELINE_TEST_RESUME_FILE
exists, so that tests hit a window such as `between_commits` deterministically.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from pyspark.sql import SparkSession

from smb_pipeline.errors import RunTerminated

PAUSE_AT_ENV = "SMB_PIPELINE_TEST_PAUSE_AT"
PAUSE_SECONDS_ENV = "SMB_PIPELINE_TEST_PAUSE_SECONDS"
RESUME_FILE_ENV = "SMB_PIPELINE_TEST_RESUME_FILE"
INTERRUPT_EVERY_SECONDS = 0.2

log = logging.getLogger("smb_pipeline")


class StopSignals:
    """Records SIGTERM/SIGINT during a run and turns them into RunTerminated at safe points."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.received: tuple[str, int] | None = None
        self._computing = threading.Event()
        self._interrupting = threading.Lock()
        self._previous: dict[int, object] = {}

    @contextmanager
    def installed(self) -> Iterator[StopSignals]:
        """Handle the signals for the duration (only possible on the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        for number in (signal.SIGTERM, signal.SIGINT):
            self._previous[number] = signal.signal(number, self._on_signal)
        try:
            yield self
        finally:
            self._computing.clear()
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)  # type: ignore[arg-type]

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """Within: a signal also cancels the run's running Spark jobs."""
        self._computing.set()
        try:
            yield
        finally:
            self._computing.clear()

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Within (undo, run log): a signal cancels nothing; it is acted on afterwards."""
        computing = self._computing.is_set()
        self._computing.clear()
        with self._interrupting:
            pass  # an interruption already on its way has been delivered: none follows
        try:
            yield
        finally:
            if computing:
                self._computing.set()

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = (signal.Signals(number).name, number)
        log.warning("received %s: stopping at the next safe point", self.received[0])
        threading.Thread(target=self._interrupt_jobs, name="stop-run", daemon=True).start()

    def _interrupt_jobs(self) -> None:
        """Cancel the session's running jobs while the run computes (again: a job may start late).

        `interruptAll`, not `interruptTag`: in classic mode (4.0.1) a job tag is resolved per
        JVM thread (`spark-session-<id>-thread-<id>-<tag>`), so a tag added on the run's thread
        cannot be interrupted from this one. The session's other jobs are the claim heartbeat's,
        which retries on its next beat.
        """
        while True:
            with self._interrupting:
                if not self._computing.is_set():
                    return
                try:
                    self.spark.interruptAll()
                except Exception as exc:  # the session may be going away; the checkpoint still stops the run
                    log.debug("interruptAll failed: %s", exc)
                    return
            time.sleep(INTERRUPT_EVERY_SECONDS)

    def checkpoint(self, stage: str) -> None:
        """A safe point: pause here if a test asks to, then stop if a signal arrived."""
        if stage in os.environ.get(PAUSE_AT_ENV, "").split(","):
            log.warning("test pause at %s", stage)
            deadline = time.monotonic() + float(os.environ.get(PAUSE_SECONDS_ENV, "60"))
            resume = os.environ.get(RESUME_FILE_ENV)
            while self.received is None and time.monotonic() < deadline:
                if resume and os.path.exists(resume):
                    break
                time.sleep(0.05)
        self.raise_if_stopped()

    def raise_if_stopped(self) -> None:
        if self.received is not None:
            raise RunTerminated(*self.received)
