"""Days: the unit a run, a partition and a backfill batch are made of."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column
from pyspark.sql import functions as F

SECONDS_PER_DAY = 86_400


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """start..end inclusive."""
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]


def day_literal(day: dt.date) -> Column:
    """A date literal Spark compares with date columns (and pushes to a scan as a partition filter)."""
    return F.lit(day.isoformat()).cast("date")


def utc_date(timestamp: Column) -> Column:
    """The UTC day of a timestamp, by arithmetic on its epoch seconds.

    `to_date` goes through java.time for every row (a zone lookup and a LocalDate per call:
    a tenth of the census scan's samples at 50M rows) and follows the session zone; a UTC
    day is whole days of seconds since the epoch. Exact: the epoch seconds of any timestamp
    Spark holds fit a double, and a quotient that is not whole lies at least 1/86,400 from
    the next whole number, far beyond the division's rounding.
    """
    return F.date_from_unix_date(F.floor(F.unix_seconds(timestamp) / SECONDS_PER_DAY).cast("int"))
