"""A detection run over stored pairs: read the pair table's window, compute, MERGE into smb_alerts.

Used by `run` (after the pair table is written, inside the run's undo scope) and by `detect`
(alone, after an allowlist change or a backfill of older days).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from smb_pipeline.alerts.classify import DIRECTION_COLUMNS, build_address_reference, with_direction
from smb_pipeline.alerts.compute import compute_alerts, history_days_needed, plan_detections
from smb_pipeline.alerts.report import AlertsReport
from smb_pipeline.alerts.schema import ALERTS_TABLE
from smb_pipeline.alerts.store import merge_alerts
from smb_pipeline.config import PipelineConfig
from smb_pipeline.errors import StorageError
from smb_pipeline.model.schemas import PAIRS_TABLE
from smb_pipeline.storage import delta_io, registration

log = logging.getLogger("smb_pipeline")


def address_reference(spark: SparkSession, config: PipelineConfig):
    return build_address_reference(spark, config.company_subnets, config.company_subnet_labels,
                                   config.alerts.special_range_entries)


def _logged_days(spark: SparkSession, config: PipelineConfig, first: dt.date, end: dt.date) -> set[dt.date]:
    """Days a successful run processed (with or without pairs), from the run log when there is one."""
    from smb_pipeline.operations.runlog import STATUS_SUCCEEDED, read_runs

    runs = read_runs(spark, config)
    if runs is None:
        return set()
    days = runs.filter((F.col("status") == STATUS_SUCCEEDED) & F.col("event_date").between(first, end))
    return {row[0] for row in days.select("event_date").distinct().collect()}  # a few dates


def covered_days(spark: SparkSession, config: PipelineConfig, pairs: DataFrame, first: dt.date,
                 end: dt.date) -> set[dt.date]:
    """Days of first..end the pair table covers: days with pairs, and days a run processed."""
    with_pairs = {row[0] for row in pairs.select("event_date").distinct().collect()}  # a few dates
    return with_pairs | _logged_days(spark, config, first, end)


def _counts(alerts: DataFrame) -> dict[str, tuple[int, int]]:
    rows = alerts.groupBy("detection").agg(
        F.count(F.when(~F.col("suppressed"), 1)).alias("open"), F.count(F.when(F.col("suppressed"), 1)).alias("hid"))
    return {row.detection: (row.open, row.hid) for row in rows.collect()}  # one row per detection


def classified_pairs(spark: SparkSession, config: PipelineConfig, pairs: DataFrame) -> DataFrame:
    """`pairs` with direction and labels from the current config, computed once.

    The detections use the pair-days many times over; with the classification (four joins
    against local relations) inline, each use re-analyzed it and the plan of the alerts grew
    to over a million characters (and past Spark Connect's message limit). A local checkpoint
    cuts the lineage: the pair-days of a few days are small.
    """
    enriched = with_direction(pairs.drop(*DIRECTION_COLUMNS), address_reference(spark, config))
    return enriched.localCheckpoint(eager=True)


def detect_days(spark: SparkSession, config: PipelineConfig, start: dt.date, end: dt.date,
                processed: Collection[dt.date] = ()) -> AlertsReport:
    """Compute and store the alerts of start..end from the stored pair table.

    `processed`: days the caller has just written with the current config (covered even when
    they have no pairs, and already classified: their stored direction and labels are used).
    Other days (`detect` alone: after a change of subnets or ranges, or days written before
    the table had a direction) are classified again.
    """
    pairs_path = config.output.table_path(PAIRS_TABLE)
    if delta_io.table_version(spark, pairs_path) is None:
        raise StorageError(f"no pair table at {pairs_path}: run `smb-pipeline run` for these days first")
    first = start - dt.timedelta(days=history_days_needed(config.alerts))
    window = spark.read.format("delta").load(pairs_path).where(F.col("event_date").between(first, end))
    covered = covered_days(spark, config, window, first, end) | set(processed)
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    plan = plan_detections(config.alerts, config.exclude_company, days, covered)
    current = window.where(F.col("event_date").between(start, end))
    fresh = set(days) <= set(processed)
    enriched = current if fresh else classified_pairs(spark, config, current)
    history = window.select("event_date", "src_ip", "dest_ip", "connection_count")
    alerts = compute_alerts(enriched, history, plan, config.alerts).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = _counts(alerts)
        path = config.output.table_path(ALERTS_TABLE)
        version = merge_alerts(spark, alerts, path, start, end)
    finally:
        alerts.unpersist()
    if config.output.database:
        registration.register_table(spark, config.output.database, ALERTS_TABLE, path)
    expired = [(e.id, e.expires) for e in config.alerts.allowlist_entries if e.expires and e.expires < end]
    return AlertsReport(start, end, counts, plan.inactive, plan.warming, expired, version, path)
