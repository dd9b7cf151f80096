"""The run log: Delta table `pipeline_runs`, rows per run and day: `running` when it starts, then
`succeeded`, `failed` or (written by a later run) `abandoned`.

Operators read it to see what ran, what it read and wrote, and why a run failed; the
backfill reads it to skip days whose inputs have not changed since their last success.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DateType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from smb_pipeline import __version__
from smb_pipeline.config import PipelineConfig
from smb_pipeline.errors import RunTerminated
from smb_pipeline.model.dates import days_between
from smb_pipeline.model.results import RunResult, SourceCounts
from smb_pipeline.operations.fingerprint import DayInputs, inputs_for_days
from smb_pipeline.run.claims import Claim, RunClaims, utc_now
from smb_pipeline.run.pipeline import run_pipeline
from smb_pipeline.run.signals import StopSignals
from smb_pipeline.run.writes import RunControl
from smb_pipeline.storage import commits, delta_io, registration

RUNS_TABLE = "pipeline_runs"
STATUS_SUCCEEDED = "succeeded"
STATUS_FAILED = "failed"
STATUS_RUNNING = "running"
STATUS_ABANDONED = "abandoned"

log = logging.getLogger("smb_pipeline")

SOURCE_COUNTS = StructType(
    [StructField("source", StringType())] + [StructField(name, LongType()) for name in SourceCounts.COUNTERS]
)
RUNS_SCHEMA = StructType(
    [
        StructField("run_id", StringType()),
        StructField("command", StringType()),
        StructField("event_date", DateType()),
        StructField("run_start_date", DateType()),
        StructField("run_end_date", DateType()),
        StructField("started_at", TimestampType()),
        StructField("ended_at", TimestampType()),
        StructField("status", StringType()),
        StructField("sources", ArrayType(SOURCE_COUNTS)),
        StructField("rows_read", LongType()),
        StructField("rows_kept", LongType()),
        StructField("rows_rejected", LongType()),
        StructField("rows_excluded", LongType()),
        StructField("files_read", LongType()),
        StructField("bytes_read", LongType()),
        StructField("input_fingerprint", StringType()),
        StructField("delta_versions", MapType(StringType(), LongType())),
        StructField("config_hash", StringType()),
        StructField("package_version", StringType()),
        StructField("error", StringType()),
        StructField("files_skipped", ArrayType(StringType())),
        StructField("no_data", ArrayType(StringType())),
    ]
)


def config_hash(config: PipelineConfig) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


def runs_rows(run_id: str, command: str, config: PipelineConfig, start: dt.date, end: dt.date,
              started: dt.datetime, ended: dt.datetime | None, inputs: Sequence[DayInputs],
              result: RunResult | None, error: str | None, status: str | None = None) -> list[tuple]:
    """One run-log row per day; counts are null unless the run succeeded."""
    status = status or (STATUS_SUCCEEDED if result else STATUS_FAILED)
    rows = []
    for day_input in inputs:
        counts = result.daily.get(day_input.day, []) if result else []
        totals = SourceCounts("all")
        for one in counts:
            totals.add(one)
        rows.append((
            run_id, command, day_input.day, start, end, started, ended, status,
            [(c.source, *(getattr(c, n) for n in SourceCounts.COUNTERS)) for c in counts] if result else None,
            totals.rows_read if result else None,
            totals.aggregated if result else None,
            totals.rejected if result else None,
            totals.excluded if result else None,
            day_input.files, day_input.bytes, day_input.fingerprint,
            result.versions if result else None,
            config_hash(config), __version__, error,
            result.files_skipped if result else None, result.no_data if result else None,
        ))
    return rows


def abandoned_rows(stale: Sequence[Claim], by_run: str, config: PipelineConfig) -> list[tuple]:
    """A row per day of a run whose claim went stale (killed, or lost its lease), taken over by `by_run`."""
    ended = utc_now()
    return [
        (claim.run_id, claim.command, claim.event_date, None, None, claim.started_at, ended, STATUS_ABANDONED,
         None, None, None, None, None, None, None, None, None, config_hash(config), __version__,
         f"abandoned: {claim.describe()} stopped renewing its claim; day redone by run {by_run}", None, None)
        for claim in stale
    ]


def unfinished(spark: SparkSession, config: PipelineConfig, stale: Sequence[Claim]) -> list[Claim]:
    """The stale claims whose run logged no end (succeeded or failed) for the day.

    A run logs its end, then releases its days and exits. Another run that read the claims
    just before the release and checked the holder's process just after its exit sees a claim
    of a dead process: stale, but the run finished and is not to be logged `abandoned`.
    """
    if not stale:
        return []
    runs = read_runs(spark, config)
    if runs is None:
        return list(stale)
    ended = runs.filter(F.col("run_id").isin(sorted({claim.run_id for claim in stale}))
                        & F.col("status").isin(STATUS_SUCCEEDED, STATUS_FAILED))
    # At most a row per stale claim and outcome: the run log of a few runs, never events.
    logged = {(row.run_id, row.event_date) for row in ended.select("run_id", "event_date").collect()}
    return [claim for claim in stale if (claim.run_id, claim.event_date) not in logged]


def append_runs(spark: SparkSession, config: PipelineConfig, rows: list[tuple]) -> None:
    """Blind appends: concurrent runs never conflict, except in racing to create the table."""
    frame = spark.createDataFrame(rows, RUNS_SCHEMA)
    # mergeSchema: a run log written before a column was added takes the new column.
    delta_io.append_rows(frame, config.output.table_path(RUNS_TABLE), merge_schema=True)
    if config.output.database:
        registration.register_table(spark, config.output.database, RUNS_TABLE, config.output.table_path(RUNS_TABLE))


@dataclass
class RunLog:
    """What identifies one run in `pipeline_runs`."""

    run_id: str
    command: str
    start: dt.date
    end: dt.date
    days: list[dt.date]
    started: dt.datetime = field(default_factory=utc_now)


def logged_run(spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date, command: str,
               runner: Callable[..., RunResult] = run_pipeline,
               inputs: Mapping[dt.date, DayInputs] | None = None, wait_seconds: float = 0.0) -> RunResult:
    """Claim the days, run them, and record the run: `running`, then `succeeded` or `failed`.

    The days are claimed first (run_claims: waits up to `wait_seconds` for another run of
    the same days, else ConcurrencyError); the claim is also the check that the output is
    writable and Delta available, before any computation. Stale claims taken over are logged
    `abandoned`. SIGTERM/SIGINT stop the run at a safe point (run_signals). A failure is
    re-raised after logging, as RunTerminated when a signal caused it.
    `inputs`: the days' input fingerprints when the caller already listed them (backfill).
    """
    run_id = str(uuid.uuid4())
    days = days_between(start, end)
    stops = StopSignals(spark)
    claims = RunClaims(spark, config.output.path, run_id, command, days, config.output.claim_lease_seconds)
    with stops.installed(), commits.commits_tagged(spark, run_id):
        stale = claims.acquire(wait_seconds, stops.raise_if_stopped)
        try:
            return _run_claimed(spark, config, RunLog(run_id, command, start, end, days), runner, inputs,
                                stops, claims, stale)
        finally:
            with stops.deferred():
                _release_quietly(claims)


def _release_quietly(claims: RunClaims) -> None:
    """Give the days back; if the claims table cannot be written, the lease frees them later."""
    try:
        claims.release()
    except Exception as exc:
        log.warning("could not release the claims of run %s (they expire with the lease): %s", claims.run_id,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _run_claimed(spark: SparkSession, config: PipelineConfig, run: RunLog, runner: Callable[..., RunResult],
                 inputs: Mapping[dt.date, DayInputs] | None, stops: StopSignals, claims: RunClaims,
                 stale: Sequence[Claim]) -> RunResult:
    listed = inputs if inputs is not None else inputs_for_days(spark, config, run.days)
    day_inputs = [listed[day] for day in run.days]

    def rows(result: RunResult | None, error: str | None, status: str | None = None) -> list[tuple]:
        ended = None if status == STATUS_RUNNING else utc_now()
        return runs_rows(run.run_id, run.command, config, run.start, run.end, run.started, ended, day_inputs,
                         result, error, status)

    abandoned = abandoned_rows(unfinished(spark, config, stale), run.run_id, config)
    append_runs(spark, config, abandoned + rows(None, None, STATUS_RUNNING))

    def checkpoint(stage: str) -> None:
        stops.checkpoint(stage)
        if stage == "before_commits":
            claims.check_held()

    control = RunControl(run.run_id, checkpoint, stops.deferred)
    try:
        with stops.interruptible():
            result = runner(spark, config, run.start, run.end, control=control)
    except Exception as exc:
        failure: Exception = RunTerminated(*stops.received) if stops.received else exc
        message = f"{type(failure).__name__}: {failure}".strip()[:4000]
        if isinstance(failure, RunTerminated):
            message = str(failure)
        log.error("run %s failed: %s", run.run_id, message.splitlines()[0] if message else type(exc).__name__)
        log.debug("%s", traceback.format_exc())
        with stops.deferred():
            _append_quietly(spark, config, rows(None, message))
        if failure is exc:
            raise
        raise failure from exc
    with stops.deferred():
        append_runs(spark, config, rows(result, None))
    return result


def _append_quietly(spark: SparkSession, config: PipelineConfig, rows: list[tuple]) -> None:
    """Record a failure without hiding it: if the run log cannot be written either, say so and go on."""
    try:
        append_runs(spark, config, rows)
    except Exception as exc:
        log.error("could not record the failed run in %s: %s", RUNS_TABLE, str(exc).splitlines()[0])


def read_runs(spark: SparkSession, config: PipelineConfig) -> DataFrame | None:
    return delta_io.read_table_if_exists(spark, config.output.table_path(RUNS_TABLE))


def last_success_fingerprints(spark: SparkSession, config: PipelineConfig, start: dt.date,
                              end: dt.date) -> dict[dt.date, tuple[str, str]]:
    """For each day, (input fingerprint, config hash) of its latest successful run (a row per day)."""
    runs = read_runs(spark, config)
    if runs is None:
        return {}
    latest = (
        runs.filter((F.col("status") == STATUS_SUCCEEDED) & F.col("event_date").between(start, end))
        .groupBy("event_date")
        .agg(F.max_by(F.struct("input_fingerprint", "config_hash"), "ended_at").alias("last"))
    )
    # One row per day of a backfill batch.
    return {row.event_date: (row.last.input_fingerprint, row.last.config_hash) for row in latest.collect()}
