"""Shared steps of the format tests: normalize inline rows the way the pipeline does, read pushed filters."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from smb_pipeline.formats.base import FormatContext, SourceFormat
from tests.plans import executed_plan


def normalize_rows(spark: SparkSession, fmt: SourceFormat, rows: list, ddl: str, *, timezone: str = "UTC",
                   overrides: dict | None = None) -> DataFrame:
    """Prefilter then normalize inline rows, as the pipeline does for one source named 'src1'."""
    df = spark.createDataFrame(rows, ddl)
    fields = fmt.resolve(df.schema, "src1", overrides or {}, "test")
    context = FormatContext(source="src1", timezone=timezone, smb_ports=(139, 445),
                            smb_apps=tuple(sorted(fmt.smb_apps | {"smb"})))
    return fmt.normalize(df.filter(fmt.prefilter(fields, context)), fields, context, ())


def pushed_filters(df: DataFrame) -> str:
    """The Parquet scan's PushedFilters, in full."""
    return executed_plan(df).split("PushedFilters: [", 1)[1].split("], ReadSchema", 1)[0]


def rows_with_text_time(frame: DataFrame, time_format: str = "yyyy-MM-dd HH:mm:ss") -> list[dict]:
    """Collected rows as dicts, `event_time` as text, for whole-row comparisons."""
    from pyspark.sql import functions as F

    return [row.asDict() for row in frame.withColumn("event_time", F.date_format("event_time", time_format)).collect()]
