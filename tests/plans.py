"""Reading physical plans in tests: the scan's pushed and partition filters, untruncated."""

from __future__ import annotations

from pyspark.sql import DataFrame


def executed_plan(frame: DataFrame) -> str:
    """The executed plan as text, with scan metadata (pushed filters) at full length."""
    spark = frame.sparkSession
    key = "spark.sql.maxMetadataStringLength"
    previous = spark.conf.get(key)
    spark.conf.set(key, "100000")
    try:
        return frame._jdf.queryExecution().executedPlan().toString()
    finally:
        spark.conf.set(key, previous)


def parquet_scans(frame: DataFrame) -> list[str]:
    return [line for line in executed_plan(frame).splitlines() if "FileScan parquet" in line]
