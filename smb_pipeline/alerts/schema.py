"""The `smb_alerts` table: one row per (event_date, detection, src_ip, dest_ip)."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

ALERTS_TABLE = "smb_alerts"

_COLUMNS = [
    ("alert_id", StringType()), ("event_date", DateType()), ("detection", StringType()),
    ("severity", StringType()), ("risk_score", IntegerType()), ("direction", StringType()),
    ("src_ip", StringType()), ("dest_ip", StringType()), ("src_label", StringType()), ("dest_label", StringType()),
    ("connection_count", LongType()), ("distinct_destinations", LongType()), ("first_seen", TimestampType()),
    ("last_seen", TimestampType()), ("dest_ports", ArrayType(IntegerType())), ("baseline_median", DoubleType()),
    ("baseline_mad", DoubleType()), ("mitre_techniques", ArrayType(StringType())), ("reason", StringType()),
    ("response", StringType()), ("suppressed", BooleanType()), ("suppressed_by", StringType()),
    ("created_at", TimestampType()), ("updated_at", TimestampType()),
]
ALERTS_SCHEMA = StructType([StructField(name, kind, True) for name, kind in _COLUMNS])
TIMESTAMPS = ("created_at", "updated_at")
# The columns a detection run computes; the store adds the timestamps.
COMPUTED_SCHEMA = StructType([field for field in ALERTS_SCHEMA.fields if field.name not in TIMESTAMPS])


def alert_id(event_date: Column, detection: Column, src_ip: Column, dest_ip: Column) -> Column:
    """SHA-256 of (event_date, detection, src_ip, dest_ip): the same alert has the same id on every rerun.
    A source alert's null dest_ip hashes as the empty string."""
    parts = [event_date.cast("string"), detection, src_ip, F.coalesce(dest_ip, F.lit(""))]
    return F.sha2(F.concat_ws("|", *parts), 256)
