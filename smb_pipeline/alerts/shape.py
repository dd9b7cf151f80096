"""The common shape of an alert before scoring: one row per (event_date, detection, src_ip, dest_ip).

Pair detections (dest_ip set) and source detections (dest_ip null, `distinct_destinations` set)
are brought to the same columns so that scoring, texts and suppression treat them alike.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

DETECTION_COLUMNS = (
    "event_date", "detection", "direction", "src_ip", "dest_ip", "src_label", "dest_label", "connection_count",
    "distinct_destinations", "first_seen", "last_seen", "dest_ports", "baseline_median", "baseline_mad",
    "is_new_pair",
)
TYPES = {
    "event_date": "date", "detection": "string", "direction": "string", "src_ip": "string", "dest_ip": "string",
    "src_label": "string", "dest_label": "string", "connection_count": "bigint", "distinct_destinations": "bigint",
    "first_seen": "timestamp", "last_seen": "timestamp", "dest_ports": "array<int>", "baseline_median": "double",
    "baseline_mad": "double", "is_new_pair": "boolean",
}


def shaped(frame: DataFrame, detection: str, **columns: Column) -> DataFrame:
    """`frame`'s columns of the common shape (missing ones null, `columns` overriding), typed."""
    chosen = []
    for name in DETECTION_COLUMNS:
        if name == "detection":
            value = F.lit(detection)
        elif name in columns:
            value = columns[name]
        elif name in frame.columns:
            value = F.col(name)
        else:
            value = F.lit(None)
        chosen.append(value.cast(TYPES[name]).alias(name))
    return frame.select(*chosen)


def source_days(pairs: DataFrame) -> DataFrame:
    """One row per (event_date, src_ip) of enriched pairs: totals over its destinations.

    `direction` and `src_label` are kept when every pair of the source that day agrees.
    """
    directions = F.sort_array(F.collect_set("direction"))
    return pairs.groupBy("event_date", "src_ip").agg(
        F.sum("connection_count").alias("connection_count"),
        F.count_distinct("dest_ip").alias("distinct_destinations"),
        F.min("first_seen").alias("first_seen"),
        F.max("last_seen").alias("last_seen"),
        F.sort_array(F.array_distinct(F.flatten(F.collect_list("dest_ports")))).alias("dest_ports"),
        F.when(F.size(directions) == 1, F.get(directions, 0)).alias("direction"),
        F.first("src_label", ignorenulls=True).alias("src_label"),
    )
