"""All Delta Lake I/O: day-replacing writes, versions, rollback, catalog registration."""

from __future__ import annotations

import datetime as dt
import re

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

PARTITION = "event_date"


_COMMIT_FILE = re.compile(r"^(\d{20})\.json$")


def table_version(spark: SparkSession, path: str) -> int | None:
    """The current version of the Delta table at `path`, or None when there is none yet.

    Read from the names of the commit files in `_delta_log` (through Hadoop's FileSystem,
    so any storage works): asking Delta's history would cost a Spark job per call, and a
    run asks several times.
    """
    log_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(f"{path.rstrip('/')}/_delta_log")
    fs = log_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(log_path):
        return None
    versions = [int(m.group(1)) for status in fs.listStatus(log_path)
                if (m := _COMMIT_FILE.match(status.getPath().getName()))]
    return max(versions) if versions else None


def days_predicate(start: dt.date, end: dt.date) -> str:
    return f"{PARTITION} >= '{start.isoformat()}' AND {PARTITION} <= '{end.isoformat()}'"


def replace_days(frame: DataFrame, path: str, start: dt.date, end: dt.date) -> int:
    """Overwrite the days start..end of a day-partitioned table with `frame`; other days stay.

    Rerunning a day replaces it, never duplicates it; a day with no rows becomes empty.
    One file per day partition: daily pair tables are small, and BI tools suffer from
    many tiny files.
    """
    (
        frame.repartition(PARTITION)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", days_predicate(start, end))
        .partitionBy(PARTITION)
        .save(path)
    )
    return table_version(frame.sparkSession, path)  # type: ignore[return-value]


def restore_table(spark: SparkSession, path: str, version: int | None) -> None:
    """Put a table back to `version`; a table this run created is emptied of this run's data."""
    if version is None:
        if DeltaTable.isDeltaTable(spark, path):
            DeltaTable.forPath(spark, path).delete()
        return
    if table_version(spark, path) != version:
        DeltaTable.forPath(spark, path).restoreToVersion(version)


def register_table(spark: SparkSession, database: str, table: str, path: str) -> None:
    """Make a path-based table visible to SQL and BI tools under `database.table`."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    spark.sql(f"CREATE TABLE IF NOT EXISTS `{database}`.`{table}` USING DELTA LOCATION '{path}'")
