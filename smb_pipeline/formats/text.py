"""Text-parsing helpers shared by the formats that keep a log line as text (syslog, CSV)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DataType

from smb_pipeline.formats.base import Fields, FormatContext
from smb_pipeline.formats.times import any_time_to_utc, local_to_utc

BSD_TIME_FORMATS = ("MMM d yyyy HH:mm:ss.SSS", "MMM d yyyy HH:mm:ss")


def syslog_time_to_utc(column: Column, data_type: DataType | None, timezone: str) -> Column:
    """Syslog time -> UTC: timestamps, ISO text, or BSD text with a year ("Nov 28 2026 03:31:34").

    BSD text carries no zone, so it is wall-clock time in `timezone`. Year-less BSD text
    ("Nov 28 03:31:34") cannot be dated and gives null (the core rejects the row).
    """
    if data_type is None:
        return F.lit(None).cast("timestamp")
    if data_type.simpleString() != "string":
        return any_time_to_utc(column, data_type, timezone)
    text = F.regexp_replace(F.trim(column), r"\s+", " ")
    bsd = F.coalesce(*(F.try_to_timestamp(text, F.lit(pattern)) for pattern in BSD_TIME_FORMATS))
    # Text that starts with a month name goes straight to the BSD patterns (no ISO pattern can
    # read it), and other text never tries them: a failed parse costs far more than one that
    # succeeds.
    starts_with_month = F.trim(column).rlike(r"^[A-Za-z]")
    return F.when(starts_with_month, local_to_utc(bsd, timezone)).otherwise(
        any_time_to_utc(column, data_type, timezone)
    )


def syslog_time(field: str) -> Callable[[Fields, FormatContext], Column]:
    """A `Computed` hook: the syslog time of `field` in the source's zone."""

    def build(fields: Fields, context: FormatContext) -> Column:
        return syslog_time_to_utc(fields.col(field), fields.type(field), context.timezone)

    return build


def csv_field(parts: Column, position: int) -> Column:
    """Field `position` (1-based) of a split line, trimmed; null when absent or empty."""
    value = F.trim(F.try_element_at(parts, F.lit(position)))
    return F.when(value != "", value)


def with_csv_fields(df: DataFrame, line: Column, prefix: str,
                    positions: Iterable[int]) -> tuple[DataFrame, Callable[[int], Column]]:
    """`line` split at commas once per row, and its fields at `positions` (`csv_field`) as
    helper columns `<prefix><position>`; returns the frame and the column of a position.

    Columns that read the fields read these: inlined, each read repeated the lookup, and a
    parser's expression grew too large for the JIT to compile.
    """
    parts = f"{prefix}parts"
    split = df.withColumn(parts, F.split(line, ","))
    fields = split.withColumns({f"{prefix}{position}": csv_field(F.col(parts), position) for position in positions})
    return fields, lambda position: F.col(f"{prefix}{position}")
