"""The settings every session the job builds carries, whatever the caller passes."""

from __future__ import annotations

import py4j.java_gateway
import pytest
from pyspark.sql import functions as F

from smb_pipeline.engine.session import remote_session_builder, session_settings


def test_built_session_keeps_utc_days_and_skips_partition_pruning_analysis(spark):
    # Dynamic partition pruning cannot help the job's joins (addresses against small indexes)
    # and cost seconds of optimization per plan; a run's ~100 generated classes must all stay
    # cached (the `perf` suite checks that a rerun compiles none); days must be UTC days.
    assert spark.conf.get("spark.sql.optimizer.dynamicPartitionPruning.enabled") == "false"
    assert spark.conf.get("spark.sql.codegen.cache.maxEntries") == "1000"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


@pytest.mark.parametrize(("key", "value"), [("spark.sql.optimizer.dynamicPartitionPruning.enabled", "false"),
                                          ("spark.sql.session.timeZone", "UTC"),
                                          ("spark.python.sql.dataFrameDebugging.enabled", "false"),
                                          ("spark.sql.icu.caseMappings.enabled", "false")])
def test_connect_session_carries_the_same_settings(key, value):
    builder = remote_session_builder("sc://127.0.0.1:1")
    assert builder._options[key] == value  # the builder's settings, read before connecting: no server needed


def test_a_column_costs_its_own_call_without_call_site_round_trips(spark, monkeypatch):
    """pyspark can record each DataFrame function's Python call site in the JVM (for error
    messages): five py4j round trips and a stack walk per call, two thirds of the calls that build
    a run's plan. The job's sessions turn it off."""
    F.col("warm")  # pyspark reads the setting once per process, at the first call
    calls: list[str] = []
    original = py4j.java_gateway.JavaMember.__call__

    def counting(self, *args):
        calls.append(self.name)
        return original(self, *args)

    monkeypatch.setattr(py4j.java_gateway.JavaMember, "__call__", counting)
    F.lower(F.col("x"))
    assert calls == ["col", "lower"]


def test_session_settings_hold_within_the_block_and_are_restored_or_unset_after_it(spark):
    kept, absent = "spark.sql.shuffle.partitions", "spark.databricks.delta.commitInfo.userMetadata"
    before = spark.conf.get(kept)
    with pytest.raises(RuntimeError, match="stop"), session_settings(spark, {kept: "7", absent: "run-1"}):
        assert (spark.conf.get(kept), spark.conf.get(absent)) == ("7", "run-1")
        raise RuntimeError("stop")
    assert spark.conf.get(kept) == before
    assert spark.conf.get(absent, None) is None

