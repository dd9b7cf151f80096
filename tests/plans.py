"""Reading physical plans in tests: the scan's pushed and partition filters, untruncated, the
size of the generated code, the Spark jobs an action ran, and the calls it made into the JVM."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pyspark.sql import DataFrame, SparkSession

from smb_pipeline.engine.session import session_settings

T = TypeVar("T")


def jobs_of(spark: SparkSession, group: str, action: Callable[[], T]) -> tuple[T, list[int]]:
    """`action()`'s answer and the ids of the Spark jobs it ran, by a job group of its own
    (`group`: unique in the session)."""
    context = spark.sparkContext
    context.setJobGroup(group, group)
    try:
        answer = action()
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    return answer, list(context.statusTracker().getJobIdsForGroup(group))


def jvm_calls(action: Callable[[], T]) -> tuple[T, int]:
    """`action()`'s answer and how many calls it made from Python into the JVM (classic
    pyspark: py4j commands), counted on the connection class that sends them."""
    from py4j.clientserver import ClientServerConnection

    send = ClientServerConnection.send_command
    calls = 0

    def counted(connection, command):
        nonlocal calls
        calls += 1
        return send(connection, command)

    ClientServerConnection.send_command = counted  # type: ignore[method-assign]
    try:
        return action(), calls
    finally:
        ClientServerConnection.send_command = send  # type: ignore[method-assign]


def executed_plan(frame: DataFrame) -> str:
    """The executed plan as text, with scan metadata (pushed filters) at full length."""
    with session_settings(frame.sparkSession, {"spark.sql.maxMetadataStringLength": "100000"}):
        return frame._jdf.queryExecution().executedPlan().toString()


def optimized_plan(frame: DataFrame) -> str:
    """The optimized logical plan as text (expressions in full: lambda functions show as `lambdafunction`)."""
    return frame._jdf.queryExecution().optimizedPlan().toString()


def parquet_scans(frame: DataFrame) -> list[str]:
    return [line for line in executed_plan(frame).splitlines() if "FileScan parquet" in line]


def _codegen_stages(frame: DataFrame) -> list:
    """Spark's (operators, Java source, bytecode statistics) of each whole-stage generated class.

    Planned without adaptive execution, whose plan shows no stages until it has run (a plan with
    a broadcast join is adaptive); each stage's generated code is the same. The alias gives the
    frame a new query execution, planned now rather than the one it may have planned already."""
    with session_settings(frame.sparkSession, {"spark.sql.adaptive.enabled": "false"}):
        stages = frame.alias("_planned_again")._jdf.queryExecution().debug().codegenToSeq()
    found = []
    iterator = stages.iterator()
    while iterator.hasNext():
        found.append(iterator.next())
    return found


def generated_stages(frame: DataFrame) -> list[tuple[str, int]]:
    """Each whole-stage generated class of the plan: its operators, and the bytecode size of its
    largest method (the JIT does not compile a method over 8,000 bytes)."""
    return [(stage._1(), stage._3().maxMethodCodeSize()) for stage in _codegen_stages(frame)]


def generated_code(frame: DataFrame) -> list[str]:
    """The Java source of each whole-stage generated class of the plan."""
    return [stage._2() for stage in _codegen_stages(frame)]
