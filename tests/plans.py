"""Reading physical plans in tests: the scan's pushed and partition filters, untruncated, and the
size of the generated code."""

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


def generated_stages(frame: DataFrame) -> list[tuple[str, int]]:
    """Each whole-stage generated class of the plan: its operators, and the bytecode size of its
    largest method (the JIT does not compile a method over 8,000 bytes).

    Planned without adaptive execution, whose plan shows no stages until it has run (a plan with
    a broadcast join is adaptive); each stage's generated code is the same."""
    spark = frame.sparkSession
    key = "spark.sql.adaptive.enabled"
    previous = spark.conf.get(key)
    spark.conf.set(key, "false")
    try:
        execution = frame.alias("_planned_again")._jdf.queryExecution()
        stages = execution.debug().codegenToSeq()
    finally:
        spark.conf.set(key, previous)
    found = []
    iterator = stages.iterator()
    while iterator.hasNext():
        stage = iterator.next()
        found.append((stage._1(), stage._3().maxMethodCodeSize()))
    return found
