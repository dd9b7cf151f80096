"""Reading a source archive: partition pruning on `dt=` folders and the columns the core adds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from smb_pipeline.config import SourceConfig
from smb_pipeline.errors import InputError
from smb_pipeline.formats import FORMATS
from smb_pipeline.formats.base import Fields, SourceFormat, day_literal

PARTITION_COLUMN = "dt"
FILE_COLUMN = "_file"
FOLDER_DAY_COLUMN = "_folder_day"
MARGIN_DAYS = 1


@dataclass(frozen=True)
class SourceArchive:
    """One source's rows in the read window, with its format and resolved fields."""

    config: SourceConfig
    format: SourceFormat
    fields: Fields
    frame: DataFrame
    raw_columns: tuple[str, ...]
    partitioned: bool


def read_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The folders to read: a day of margin each side, since a folder is the day a log was
    written, and an event at 23:59:59 can be logged into the next day's folder."""
    return start - dt.timedelta(days=MARGIN_DAYS), end + dt.timedelta(days=MARGIN_DAYS)


def read_source(spark: SparkSession, source: SourceConfig, start: dt.date, end: dt.date) -> SourceArchive:
    """Read a source's Parquet archive for the days start..end (plus margin)."""
    fmt = FORMATS[source.format]
    try:
        frame = spark.read.parquet(source.path)
    except AnalysisException as exc:
        raise InputError(f"source {source.name!r}: cannot read Parquet at {source.path!r}: "
                         f"{str(exc).splitlines()[0]}") from None
    partitioned = PARTITION_COLUMN in frame.columns
    raw_columns = tuple(c for c in frame.columns if c != PARTITION_COLUMN)
    raw_schema = StructType([f for f in frame.schema.fields if f.name != PARTITION_COLUMN])
    try:
        fields = fmt.resolve(raw_schema, source.name, source.columns, source.path)
    except InputError:
        # Name a file only when needed: listing a large archive is not free.
        fmt.resolve(raw_schema, source.name, source.columns, _describe_files(frame, source))
        raise
    if partitioned:
        first, last = read_window(start, end)
        folder_day = F.col(PARTITION_COLUMN).cast("date")
        frame = frame.filter(F.col(PARTITION_COLUMN).between(day_literal(first), day_literal(last)))
    else:
        folder_day = F.lit(None).cast("date")
    # The file column (`with_file_column`) is added only where it is used: a `_metadata` column on
    # the frame makes a scan that reads none of it still fill every metadata field, row index included.
    frame = frame.withColumn(FOLDER_DAY_COLUMN, folder_day)
    return SourceArchive(source, fmt, fields, frame, raw_columns, partitioned)


def with_file_column(frame: DataFrame) -> DataFrame:
    """Add `FILE_COLUMN`, the path of the file each row was read from (for the rejects table)."""
    return frame.withColumn(FILE_COLUMN, F.col("_metadata.file_path"))


def _describe_files(frame: DataFrame, source: SourceConfig) -> str:
    """Name a file of the archive for error messages, without listing the whole archive."""
    files = frame.inputFiles()
    return files[0] if files else f"{source.path} (no files)"
