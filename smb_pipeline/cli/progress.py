"""A progress line for Spark work that takes more than a few seconds: tasks done, rate, ETA.

Spark's own console progress bar is off (it interleaves with everything else and cannot be
read in a log); this reads the same public status API from a background thread and reports
through the console, which updates one line in place on a terminal. A scan task reads one
split of one file, so for the counting and scanning phases tasks are file splits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from smb_pipeline.cli.console import PROGRESS_AFTER_SECONDS, duration

POLL_SECONDS = 1.0
REPORT_EVERY_SECONDS = 5.0


class ConnectProgress:
    """The running operation's stages as a Spark Connect server reports them (a progress handler,
    Spark 4's public API for Connect clients), in the shape `stage_counts` returns."""

    def __init__(self, spark: Any) -> None:
        self._latest: tuple[str, int, int] | None = None
        self._lock = threading.Lock()
        spark.registerProgressHandler(self)

    def __call__(self, stages: Any, inflight_tasks: int, operation_id: str | None, done: bool) -> None:
        stages = list(stages or ())
        latest = None if done or not stages else (
            operation_id or "", sum(s.num_completed_tasks for s in stages), sum(s.num_tasks for s in stages))
        with self._lock:
            self._latest = latest

    def counts(self) -> tuple[str, int, int] | None:
        with self._lock:
            return self._latest


def _is_connect(spark: Any) -> bool:
    return type(spark).__module__.startswith("pyspark.sql.connect")


def status_tracker(spark: Any) -> Any | None:
    """What reports the progress of running stages: a ConnectProgress over Spark Connect, else
    Spark's status tracker (None where neither is available).

    Classic PySpark has no other public API for the progress of running stages than the
    SparkContext's status tracker (Observation metrics arrive only when an action ends; progress
    handlers are Connect-only); it is used only here, for the console, never for the data.
    """
    try:
        if _is_connect(spark):
            return ConnectProgress(spark)
        return spark.sparkContext.statusTracker()
    except Exception:  # a session without either: no progress line, the phases still tell
        return None


def stage_counts(tracker: Any) -> tuple[Any, int, int] | None:
    """(first active job id, tasks done, tasks in all) over the active jobs' stages, or None when idle."""
    if isinstance(tracker, ConnectProgress):
        return tracker.counts()
    jobs = sorted(tracker.getActiveJobsIds())
    if not jobs:
        return None
    done = total = 0
    for job_id in jobs:
        job = tracker.getJobInfo(job_id)
        for stage_id in job.stageIds if job else ():
            stage = tracker.getStageInfo(stage_id)
            if stage is not None:
                done += stage.numCompletedTasks
                total += stage.numTasks
    return jobs[0], done, total


def progress_text(done: int, total: int, seconds: float) -> str:
    rate = done / seconds if seconds > 0 else 0.0
    eta = f"ETA {duration((total - done) / rate)}" if rate > 0 and total > done else "ETA unknown"
    return f"{done:,}/{total:,} tasks (file splits, partitions), {rate:,.1f} tasks/s, {eta}"


class ProgressReporter:
    """Polls the active Spark jobs and reports progress for jobs running longer than a few seconds."""

    def __init__(self, tracker: Any, report: Callable[[str], None], interactive: bool):
        self.tracker = tracker
        self.report = report
        self.every = POLL_SECONDS if interactive else REPORT_EVERY_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="smb-pipeline-progress", daemon=True)

    def __enter__(self) -> ProgressReporter:
        if self.tracker is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        job, job_started, last_report = None, time.monotonic(), 0.0
        while not self._stop.wait(POLL_SECONDS):
            try:
                counts = stage_counts(self.tracker)
            except Exception:  # the session is stopping; progress is best effort
                return
            now = time.monotonic()
            if counts is None:
                job = None
                continue
            if counts[0] != job:
                job, job_started = counts[0], now
            running = now - job_started
            # A one-task job has no progress to tell; its phase line already says what runs.
            worth_telling = counts[2] > 1 and running >= PROGRESS_AFTER_SECONDS
            if worth_telling and now - last_report >= self.every:
                self.report(progress_text(counts[1], counts[2], running))
                last_report = now
