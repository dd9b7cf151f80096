"""Per-row decisions of a run: the day that owns a row, the input's own rejects, the row's status.

Pure DataFrame -> DataFrame functions over canonical, validated events (`transforms.validate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smb_pipeline.model.columns import (
    COMPANY_COLUMN,
    FILE_COLUMN,
    FOLDER_DAY_COLUMN,
    IMPLAUSIBLE_COLUMN,
    MARGIN_DAYS,
    MISSING_COLUMN,
    RAW_COLUMN,
    ROW_INDEX_COLUMN,
)
from smb_pipeline.model.dates import day_literal, utc_date
from smb_pipeline.model.schemas import REJECTS_SCHEMA
from smb_pipeline.model.statuses import (
    REASON_IMPLAUSIBLE_TIME,
    REASON_MISSING_COLUMN,
    STATUS_NOT_SMB,
    STATUS_REJECTED,
    STATUS_SMB,
)
from smb_pipeline.transforms.smb_filter import is_allowed_smb


def with_event_date(events: DataFrame, start: dt.date) -> DataFrame:
    """The day that owns a row (`event_date`) and whether its time is implausible.

    A row belongs to its event's UTC day when that day is within `MARGIN_DAYS` of its folder's
    day: exactly the runs that read the folder. Otherwise (1900, 9999, epoch 0, logged too
    late for any run that reads its folder) the time is implausible and the row belongs to its
    folder's day, as does a row without a time (the run's first day if the archive has no day
    folders). So every row of a folder is owned by exactly one run.
    """
    folder = F.col(FOLDER_DAY_COLUMN)
    with_day = events.withColumn("_event_day", utc_date(F.col("event_time")))
    implausible = F.coalesce(F.abs(F.datediff(F.col("_event_day"), folder)) > MARGIN_DAYS, F.lit(False))
    return (
        with_day.withColumn(IMPLAUSIBLE_COLUMN, implausible)
        .withColumn(
            "event_date",
            F.when(F.col(IMPLAUSIBLE_COLUMN), folder).otherwise(
                F.coalesce(F.col("_event_day"), folder, day_literal(start))
            ),
        )
        .drop("_event_day")
    )


def filter_days(events: DataFrame, start: dt.date, end: dt.date) -> DataFrame:
    """The rows owned by the days start..end (inclusive)."""
    return events.filter(F.col("event_date").between(day_literal(start), day_literal(end)))


def with_input_rejects(validated: DataFrame) -> DataFrame:
    """Rejects that come from the input rather than a value: a required column missing from the
    row's file, an implausible event time. They take precedence over the value checks."""
    missing = F.col(MISSING_COLUMN).isNotNull()
    implausible = F.col(IMPLAUSIBLE_COLUMN)
    detail_missing = F.format_string("file %s: column %s is missing", F.col(FILE_COLUMN), F.col(MISSING_COLUMN))
    detail_implausible = F.format_string(
        "event time %s is more than %d day(s) from its folder's day %s",
        F.col("event_time").cast("string"), F.lit(MARGIN_DAYS), F.col(FOLDER_DAY_COLUMN).cast("string"),
    )
    return validated.withColumns({
        "reject_detail":
            F.when(missing, detail_missing).when(implausible, detail_implausible).otherwise(F.col("reject_detail")),
        "reject_reason":
            F.when(missing, F.lit(REASON_MISSING_COLUMN)).when(implausible, F.lit(REASON_IMPLAUSIBLE_TIME))
            .otherwise(F.col("reject_reason")),
    })


def with_status(events: DataFrame, ports: Sequence[int], apps: Sequence[str]) -> DataFrame:
    """rejected | not_allowed_smb | allowed_smb, for validated canonical events."""
    smb = is_allowed_smb(F.col("action"), F.col("session_key"), F.col("dest_port"), F.col("app"), ports, apps)
    return events.withColumn(
        "status",
        F.when(F.col("reject_reason").isNotNull(), STATUS_REJECTED).when(smb, STATUS_SMB).otherwise(STATUS_NOT_SMB),
    )


def kept_events(flagged: DataFrame) -> DataFrame:
    """The rows a run aggregates: allowed SMB and not company traffic (`transforms.subnets.with_company_flag`)."""
    return flagged.filter((F.col("status") == STATUS_SMB) & ~F.col(COMPANY_COLUMN))


# Where a row was read, which finds its raw columns again (`sources.reader.raw_rows`).
REJECT_KEYS = ("source", FILE_COLUMN, ROW_INDEX_COLUMN)


def rejected_keys(staged: DataFrame) -> DataFrame:
    """Where each rejected row was read: source, file and row index (`REJECT_KEYS`)."""
    return staged.filter(F.col("status") == STATUS_REJECTED).select(*REJECT_KEYS)


def rejects_table(staged: DataFrame, raw_rows: DataFrame | None) -> DataFrame:
    """The rejected rows in the rejects table's shape: reason, raw row, detail, file.

    `raw_rows`: the raw JSON (`RAW_COLUMN`) of the rejected rows by `REJECT_KEYS`, at most one
    per key (None: no raw rows were read); the fewer other rows it holds, the cheaper the join.
    """
    rejected = staged.filter(F.col("status") == STATUS_REJECTED)
    if raw_rows is None:
        with_raw = rejected.withColumn(RAW_COLUMN, F.lit(None).cast("string"))
    else:
        with_raw = rejected.join(raw_rows, on=list(REJECT_KEYS), how="left")
    rejects = with_raw.select(
        "event_date",
        "source",
        F.col("reject_reason").alias("reason"),
        F.col(RAW_COLUMN).alias("raw"),
        F.col("reject_detail").alias("detail"),
        F.col(FILE_COLUMN).alias("file_path"),
    )
    return rejects.select(*[F.col(f.name).cast(f.dataType) for f in REJECTS_SCHEMA.fields])
