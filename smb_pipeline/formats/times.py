"""Event times of any archive type (timestamp, epoch number, ISO or slashed text) as UTC.

Why a module of their own: every format reads its time through these, and their unit and
zone rules (epoch unit from the magnitude, an explicit offset wins over the source's zone)
must be the same everywhere.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import DataType


def epoch_to_timestamp(column: Column) -> Column:
    """Epoch number -> timestamp, guessing the unit from the magnitude (s, ms, µs or ns).

    FortiGate's `eventtime` changed unit between versions; magnitudes do not overlap
    for any date between 1973 and 2286, so the guess is exact in practice.
    """
    value = column.cast("double")
    seconds = (
        F.when(F.abs(value) >= 1e17, value / 1e9)
        .when(F.abs(value) >= 1e14, value / 1e6)
        .when(F.abs(value) >= 1e11, value / 1e3)
        .otherwise(value)
    )
    return F.timestamp_micros((seconds * 1_000_000).cast("long"))


def local_to_utc(timestamp: Column, timezone: str) -> Column:
    """Read a zone-less wall-clock timestamp as local time in `timezone`; return UTC."""
    if timezone == "UTC":
        return timestamp
    return F.to_utc_timestamp(timestamp, timezone)


# A zone after the time of day, in any form Spark's parser reads: 'Z', an offset ('+01', '-0500',
# '+01:00'), or a zone name ('UTC', 'GMT+1', 'CET', 'Europe/Paris'). Text with one is exact; reading
# it as wall-clock time in the source's zone would shift it a second time.
_ZONE_AFTER_TIME = r"\d:\d{2}(:\d{2}([.,]\d+)?)?\s*(Z|[+-]\d{1,2}(:?\d{2})?|[A-Za-z][\w/+:-]*)\z"


def any_time_to_utc(column: Column, data_type: DataType | None, timezone: str) -> Column:
    """Timestamp, epoch number or ISO text -> UTC timestamp.

    Text with an explicit offset or 'Z' is exact; text without one is wall-clock time in
    `timezone`. Unparseable text gives null (the core rejects the row).
    """
    if data_type is None:  # a file without the time column: the core rejects its rows
        return F.lit(None).cast("timestamp")
    type_name = data_type.simpleString()
    if type_name == "timestamp":
        return column
    if type_name == "timestamp_ntz":
        return local_to_utc(column.cast("timestamp"), timezone)
    if type_name in {"tinyint", "smallint", "int", "bigint", "float", "double"} or type_name.startswith("decimal"):
        return epoch_to_timestamp(column)
    text = F.trim(column.cast("string"))
    has_zone = text.rlike(_ZONE_AFTER_TIME)
    # Slashed dates (PAN-OS) go straight to their pattern: a pattern that fails to parse costs
    # far more than one that succeeds, and none of the ISO ones can read a slashed date.
    parsed = F.when(
        F.substring(text, 5, 1) == "/", F.try_to_timestamp(text, F.lit("yyyy/MM/dd HH:mm:ss"))
    ).otherwise(
        F.coalesce(
            F.try_to_timestamp(text),
            F.try_to_timestamp(text, F.lit("yyyy-MM-dd HH:mm:ss.SSSSSSXXX")),
            F.try_to_timestamp(text, F.lit("yyyy-MM-dd'T'HH:mm:ss.SSSSSSZ")),
            F.try_to_timestamp(text, F.lit("yyyy-MM-dd'T'HH:mm:ssZ")),
        )
    )
    numeric = text.rlike(r"^\d+(\.\d+)?$")
    return (
        F.when(numeric, epoch_to_timestamp(text))
        .when(has_zone, parsed)
        .otherwise(local_to_utc(parsed, timezone))
    )
