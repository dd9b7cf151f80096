"""Reading alerts back for a SOAR or SIEM: by day, by range, or what changed since a table version.

`--since-version V` reads the change data feed of `smb_alerts` after V: each alert inserted or
updated since, in its latest state (an alert whose latest change is a delete is left out).
Rows are written as JSON lines by Spark's own `to_json`, every column (nulls included), dates
and times in ISO 8601.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TextIO

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from smb_pipeline.alerts.schema import ALERTS_SCHEMA
from smb_pipeline.storage import delta_io

JSON_OPTIONS = {"timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "dateFormat": "yyyy-MM-dd",
                "ignoreNullFields": "false"}
COLUMNS = [f.name for f in ALERTS_SCHEMA.fields]
ORDER = ("event_date", "detection", "src_ip", "dest_ip")


def alerts_between(spark: SparkSession, path: str, start: dt.date, end: dt.date) -> DataFrame:
    table = spark.read.format("delta").load(path)
    return table.where(F.col("event_date").between(start, end)).select(*COLUMNS)


def alerts_since(spark: SparkSession, path: str, version: int, latest: int) -> DataFrame:
    """Alerts inserted or changed in the versions after `version`, in their latest state."""
    if version >= latest:
        return spark.createDataFrame([], ALERTS_SCHEMA)
    changes = (
        spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", version + 1)
        .load(path).where(F.col("_change_type").isin("insert", "update_postimage", "delete"))
    )
    latest_first = Window.partitionBy("alert_id").orderBy(F.col("_commit_version").desc(),
                                                          F.col("_change_type") != "delete")
    ranked = changes.withColumn("_rank", F.row_number().over(latest_first))
    return ranked.where((F.col("_rank") == 1) & (F.col("_change_type") != "delete")).select(*COLUMNS)


def json_lines(alerts: DataFrame, include_suppressed: bool) -> Iterator[str]:
    """One JSON object per alert, ordered by day, detection and pair."""
    chosen = alerts if include_suppressed else alerts.where(~F.col("suppressed"))
    text = chosen.orderBy(*ORDER).select(F.to_json(F.struct(*COLUMNS), JSON_OPTIONS).alias("json"))
    for row in text.toLocalIterator():  # alerts of the selection, streamed a partition at a time
        yield row.json


def write_json_lines(alerts: DataFrame, out: TextIO, include_suppressed: bool) -> int:
    written = 0
    for line in json_lines(alerts, include_suppressed):
        out.write(line + "\n")
        written += 1
    return written


def latest_version(spark: SparkSession, path: str) -> int | None:
    return delta_io.table_version(spark, path)
