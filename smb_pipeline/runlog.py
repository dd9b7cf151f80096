"""The run log: Delta table `pipeline_runs`, one row per run and day, failed runs included.

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

from smb_pipeline import __version__, delta_io
from smb_pipeline.config import PipelineConfig
from smb_pipeline.fingerprint import DayInputs, inputs_for_days
from smb_pipeline.pipeline import RunResult, SourceCounts, days_between, run_pipeline

RUNS_TABLE = "pipeline_runs"
STATUS_SUCCEEDED = "succeeded"
STATUS_FAILED = "failed"

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
    ]
)


def config_hash(config: PipelineConfig) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


def runs_rows(run_id: str, command: str, config: PipelineConfig, start: dt.date, end: dt.date,
              started: dt.datetime, ended: dt.datetime, inputs: Sequence[DayInputs],
              result: RunResult | None, error: str | None) -> list[tuple]:
    """One run-log row per day; counts are null for a failed run."""
    rows = []
    for day_input in inputs:
        counts = result.daily.get(day_input.day, []) if result else []
        totals = SourceCounts("all")
        for one in counts:
            totals.add(one)
        rows.append((
            run_id, command, day_input.day, start, end, started, ended,
            STATUS_SUCCEEDED if result else STATUS_FAILED,
            [(c.source, *(getattr(c, n) for n in SourceCounts.COUNTERS)) for c in counts] if result else None,
            totals.rows_read if result else None,
            totals.aggregated if result else None,
            totals.rejected if result else None,
            totals.excluded if result else None,
            day_input.files, day_input.bytes, day_input.fingerprint,
            result.versions if result else None,
            config_hash(config), __version__, error,
        ))
    return rows


def append_runs(spark: SparkSession, config: PipelineConfig, rows: list[tuple]) -> None:
    frame = spark.createDataFrame(rows, RUNS_SCHEMA)
    frame.coalesce(1).write.format("delta").mode("append").save(config.output.table_path(RUNS_TABLE))
    if config.output.database:
        delta_io.register_table(spark, config.output.database, RUNS_TABLE, config.output.table_path(RUNS_TABLE))


def logged_run(spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date, command: str,
               runner: Callable[..., RunResult] = run_pipeline,
               inputs: Mapping[dt.date, DayInputs] | None = None) -> RunResult:
    """Run the days and record the run, successful or not; a failure is re-raised after logging.

    `inputs`: the days' input fingerprints when the caller already listed them (backfill).
    """
    run_id = str(uuid.uuid4())
    started = dt.datetime.now(dt.timezone.utc)
    days = days_between(start, end)
    listed = inputs if inputs is not None else inputs_for_days(spark, config, days)
    inputs = [listed[day] for day in days]
    try:
        result = runner(spark, config, start, end)
    except Exception as exc:
        ended = dt.datetime.now(dt.timezone.utc)
        message = f"{type(exc).__name__}: {exc}".strip()[:4000]
        log.error("run %s failed: %s", run_id, message.splitlines()[0] if message else type(exc).__name__)
        log.debug("%s", traceback.format_exc())
        append_runs(spark, config, runs_rows(run_id, command, config, start, end, started, ended, inputs,
                                             None, message))
        raise
    ended = dt.datetime.now(dt.timezone.utc)
    append_runs(spark, config, runs_rows(run_id, command, config, start, end, started, ended, inputs,
                                         result, None))
    return result


def read_runs(spark: SparkSession, config: PipelineConfig) -> DataFrame | None:
    path = config.output.table_path(RUNS_TABLE)
    if delta_io.table_version(spark, path) is None:
        return None
    return spark.read.format("delta").load(path)


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
