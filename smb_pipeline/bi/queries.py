"""Questions analysts ask of the tables, as DataFrame -> DataFrame functions over small tables.

The pair, rejects and run tables are already aggregates (a row per pair and day, per
rejected row, per run and day); these functions filter them by day first (partition
pruning), aggregate further, and leave collecting a bounded result to the caller.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from smb_pipeline.config import PipelineConfig
from smb_pipeline.storage import delta_io

TREND_DAYS = 30


def read_table(spark: SparkSession, config: PipelineConfig, table: str) -> DataFrame | None:
    """The Delta table `table` of the config's output, or None when it does not exist yet."""
    return delta_io.read_table_if_exists(spark, config.output.table_path(table))


def _days(frame: DataFrame, start: dt.date, end: dt.date) -> DataFrame:
    return frame.filter(F.col("event_date").between(F.lit(start), F.lit(end)))


def _distinct_flat(column: str) -> Column:
    """The distinct elements of the days' arrays, ascending. `sort_array`, not `array_sort`, whose
    comparator is a lambda that Spark interprets (the arrays hold no nulls: both agree)."""
    return F.sort_array(F.array_distinct(F.flatten(F.collect_list(column))))


def _latest(pairs: DataFrame, column: str) -> Column:
    """The column's value on the pair's latest day (null on tables written before it existed)."""
    if column not in pairs.columns:
        return F.lit(None).cast("string").alias(column)
    return F.max_by(column, "event_date").alias(column)


def pairs_between(pairs: DataFrame, start: dt.date, end: dt.date) -> DataFrame:
    """One row per (src_ip, dest_ip) over the days, busiest first; for one day, that day's rows.
    Direction and labels are those of the pair's latest day."""
    return (
        _days(pairs, start, end)
        .groupBy("src_ip", "dest_ip")
        .agg(
            F.sum("connection_count").alias("connections"),
            F.count_distinct("event_date").alias("days_seen"),
            F.min("first_seen").alias("first_seen"),
            F.max("last_seen").alias("last_seen"),
            F.sum("bytes_out").alias("bytes_out"),
            F.sum("bytes_in").alias("bytes_in"),
            _distinct_flat("dest_ports").alias("dest_ports"),
            _distinct_flat("apps").alias("apps"),
            _distinct_flat("sources").alias("sources"),
            *[_latest(pairs, column) for column in ("direction", "src_label", "dest_label")],
        )
        .orderBy(F.desc("connections"), "src_ip", "dest_ip")
    )


def day_counts(pairs: DataFrame, rejects: DataFrame | None, start: dt.date, end: dt.date) -> DataFrame:
    """Per day of start..end that has data: pairs, connections, distinct sources/destinations, rejects."""
    per_day = _days(pairs, start, end).groupBy("event_date").agg(
        F.count("*").alias("pairs"),
        F.sum("connection_count").alias("connections"),
        F.count_distinct("src_ip").alias("distinct_sources"),
        F.count_distinct("dest_ip").alias("distinct_destinations"),
    )
    if rejects is None:
        return per_day.withColumn("rejects", F.lit(0).cast("bigint")).orderBy("event_date")
    rejected = _days(rejects, start, end).groupBy("event_date").agg(F.count("*").alias("rejects"))
    return (
        per_day.join(rejected, "event_date", "full")
        .na.fill(0, ["pairs", "connections", "distinct_sources", "distinct_destinations", "rejects"])
        .orderBy("event_date")
    )


def new_pairs(pairs: DataFrame, day: dt.date) -> DataFrame:
    """Pairs seen on `day` and on no earlier day in the table, busiest first."""
    earlier = pairs.filter(F.col("event_date") < F.lit(day)).select("src_ip", "dest_ip").distinct()
    today = pairs.filter(F.col("event_date") == F.lit(day))
    return today.join(earlier, ["src_ip", "dest_ip"], "left_anti").orderBy(
        F.desc("connection_count"), "src_ip", "dest_ip")


def top_sources(pairs: DataFrame, start: dt.date, end: dt.date) -> DataFrame:
    """Per source over the days: connections, distinct destinations, days seen, first and last day."""
    return (
        _days(pairs, start, end)
        .groupBy("src_ip")
        .agg(
            F.sum("connection_count").alias("connections"),
            F.count_distinct("dest_ip").alias("destinations"),
            F.count_distinct("event_date").alias("days_seen"),
            F.min("event_date").alias("first_day"),
            F.max("event_date").alias("last_day"),
        )
        .orderBy(F.desc("connections"), "src_ip")
    )


def destination_detail(pairs: DataFrame, dest_ip: str, start: dt.date, end: dt.date) -> DataFrame:
    """Drill-down: who reached one destination, per day."""
    return (
        _days(pairs, start, end)
        .filter(F.col("dest_ip") == dest_ip)
        .select("event_date", "src_ip", "connection_count", "first_seen", "last_seen", "dest_ports", "sources")
        .orderBy("event_date", F.desc("connection_count"), "src_ip")
    )


def rejects_summary(rejects: DataFrame, start: dt.date, end: dt.date) -> DataFrame:
    """Rejected rows per source and reason over the days."""
    return (
        _days(rejects, start, end)
        .groupBy("source", "reason")
        .agg(F.count("*").alias("rows"))
        .orderBy(F.desc("rows"), "source", "reason")
    )


SEVERITIES = ("critical", "high", "medium", "low")


def alerts_of_day(alerts: DataFrame, day: dt.date) -> DataFrame:
    """The day's alerts the allowlist did not hide, riskiest first."""
    return (
        _days(alerts, day, day).filter(~F.col("suppressed"))
        .select("severity", "risk_score", "detection", "direction", "src_ip", "dest_ip", "connection_count",
                "distinct_destinations", "reason", "alert_id")
        .orderBy(F.desc("risk_score"), "detection", "src_ip", "dest_ip")
    )


def alert_counts(alerts: DataFrame, day: dt.date) -> DataFrame:
    """One row: the day's open alerts per severity (columns named by SEVERITIES) and the suppressed."""
    open_alert = ~F.col("suppressed")
    return _days(alerts, day, day).agg(
        *[F.count(F.when(open_alert & (F.col("severity") == s), 1)).alias(s) for s in SEVERITIES],
        F.count(F.when(F.col("suppressed"), 1)).alias("suppressed"),
    )


def run_accounting(runs: DataFrame, day: dt.date) -> DataFrame:
    """Where each source's rows went on `day`, from the latest successful run that processed it."""
    latest = (
        runs.filter((F.col("event_date") == F.lit(day)) & (F.col("status") == "succeeded"))
        .orderBy(F.desc("ended_at"))
        .limit(1)
    )
    return latest.select(
        "run_id", "command", "started_at", "ended_at", F.explode("sources").alias("s")
    ).select("run_id", "command", "started_at", "ended_at", "s.*").orderBy("source")

